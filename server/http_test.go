package server

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
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
