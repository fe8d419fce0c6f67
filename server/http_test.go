package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wispio/wisp/client"
)

// rawGet sends a request line as it is (no client-side cleaning, no
// redirect following) and returns the answer.
func rawGet(t *testing.T, addr, method, path string) (int, string, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, method+" "+path+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
}

// TestDotSegmentsAreNotRedirected: the server's outer mux (API, /ping,
// /hooks/) never answers a ".." path with its 307 and HTML body.
func TestDotSegmentsAreNotRedirected(t *testing.T) {
	srv, _ := startServer(t, nil)
	for _, path := range []string{"/api/v1/namespaces/_/actions/../x", "/hooks/../api/v1", "/ping/../ping", "/api/v1/namespaces/_/actions/%2e%2e/x"} {
		status, ct, body := rawGet(t, srv.Addr(), http.MethodGet, path)
		if status != http.StatusBadRequest || ct != "application/json" || !strings.Contains(body, `"code"`) {
			t.Errorf("GET %s = %d %s %q, want 400 with an OpenWhisk error body", path, status, ct, body)
		}
	}
}

// heldUntilClosed reports whether the server closes conn (a read returns
// EOF or a reset) before the safety deadline, after which the test fails.
func heldUntilClosed(conn net.Conn) error {
	if err := conn.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
		return err
	}
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return errors.New("the server still holds the connection")
	}
	return nil
}

// TestHTTPTimeoutsDropSlowClients: a client that stalls in its headers, in
// its body or between requests is disconnected, and oversized headers are
// refused, by the bounds of Config.HTTP.
func TestHTTPTimeoutsDropSlowClients(t *testing.T) {
	srv, _ := startServer(t, func(c *Config) {
		c.API.BlockingWait = time.Second
		c.HTTP = HTTPConfig{ReadHeaderTimeout: 200 * time.Millisecond, ReadTimeout: 1500 * time.Millisecond, IdleTimeout: 200 * time.Millisecond, MaxHeaderBytes: 8 << 10}
	})
	tests := []struct {
		name, send string
		answer     int // the status read before the close; 0 is none
	}{
		{"stalled headers", "GET /ping HTTP/1.1\r\nHost: x\r\n", 0},
		{"stalled body", "PUT /api/v1/namespaces/_/triggers/t HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"a\":", 0},
		{"idle keep-alive", "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n", http.StatusOK},
		{"oversized headers", "GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("b", 64<<10) + "\r\n\r\n", http.StatusRequestHeaderFieldsTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			conn, err := net.Dial("tcp", srv.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, tt.send); err != nil {
				t.Fatal(err)
			}
			if tt.answer != 0 {
				resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
				if err != nil || resp.StatusCode != tt.answer {
					t.Fatalf("answer = %v, %v; want %d", resp, err, tt.answer)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
			}
			if err := heldUntilClosed(conn); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestAPIAnswersWhile500ConnectionsAreHeld holds 250 idle connections (no
// byte sent) and 250 slow ones (headers never finished) at the default
// bounds, then checks that the API still answers a GET and logs how long it
// took (a check, not a timing assertion).
func TestAPIAnswersWhile500ConnectionsAreHeld(t *testing.T) {
	srv, c := startServer(t, nil)
	for i := range 500 {
		conn, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		t.Cleanup(func() { conn.Close() })
		if i%2 == 1 {
			if _, err := io.WriteString(conn, "GET /api/v1 HTTP/1.1\r\nHost: x\r\nX-Slow: "); err != nil {
				t.Fatal(err)
			}
		}
	}
	start := time.Now()
	status, _, body := rawGet(t, srv.Addr(), http.MethodGet, "/api/v1")
	elapsed := time.Since(start)
	if status != http.StatusOK {
		t.Fatalf("GET /api/v1 with 500 connections held = %d %s", status, body)
	}
	if _, _, err := c.ListActions(context.Background(), client.ActionListOptions{}); err != nil {
		t.Fatalf("list actions with 500 connections held: %v", err)
	}
	t.Logf("GET /api/v1 answered in %s with 250 idle and 250 slow connections held", elapsed)
}

func TestHTTPConfigValidate(t *testing.T) {
	ok := DefaultHTTPConfig()
	tests := []struct {
		name  string
		tweak func(*HTTPConfig)
		flag  string // "" is valid
	}{
		{"defaults", func(*HTTPConfig) {}, ""},
		{"no write timeout", func(c *HTTPConfig) { c.WriteTimeout = 0 }, ""},
		{"read timeout within the blocking wait", func(c *HTTPConfig) { c.ReadTimeout = time.Minute }, "http-read-timeout"},
		{"write timeout within the blocking wait", func(c *HTTPConfig) { c.WriteTimeout = 30 * time.Second }, "http-write-timeout"},
		{"no header timeout", func(c *HTTPConfig) { c.ReadHeaderTimeout = 0 }, "http-read-header-timeout"},
		{"no idle timeout", func(c *HTTPConfig) { c.IdleTimeout = 0 }, "http-idle-timeout"},
		{"tiny headers", func(c *HTTPConfig) { c.MaxHeaderBytes = 100 }, "http-max-header-bytes"},
	}
	for _, tt := range tests {
		c := ok
		tt.tweak(&c)
		err := c.Validate(time.Minute)
		if tt.flag == "" && err != nil || tt.flag != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.flag+":")) {
			t.Errorf("%s: Validate = %v, want an error naming %q", tt.name, err, tt.flag)
		}
	}
}
