package slack

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/wispio/wisp/actions/builtin"
)

func postWith(t *testing.T, p *Provider, params map[string]any) error {
	t.Helper()
	b, _ := json.Marshal(params)
	_, err := p.Actions()[0].Func(context.Background(), builtin.Call{Params: b})
	return err
}

// TestPostEgressPolicy: post to an incoming webhook the default policy
// denies (loopback by address or name, metadata, private) fails with
// exactly the policy's message, before connecting; the allow list lets
// the same webhook through.
func TestPostEgressPolicy(t *testing.T) {
	hits := make(chan struct{}, 16)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits <- struct{}{}
		_, _ = io.WriteString(w, "ok")
	}))
	defer hook.Close()
	_, port, _ := net.SplitHostPort(hook.Listener.Addr().String())
	deny, err := New(Config{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, url string
		denied    []string
	}{
		{"Loopback", hook.URL + "/services/T/B/X", []string{"egress to 127.0.0.1:" + port + " denied by policy"}},
		{"Localhost", "http://localhost:" + port + "/services/T/B/X", []string{"egress to 127.0.0.1:" + port + " denied by policy", "egress to [::1]:" + port + " denied by policy"}},
		{"IPv6Loopback", "http://[::1]:" + port + "/", []string{"egress to [::1]:" + port + " denied by policy"}},
		{"CloudMetadata", "http://169.254.169.254/latest/meta-data/", []string{"egress to 169.254.169.254:80 denied by policy"}},
		{"Private", "https://10.0.0.1/services/T/B/X", []string{"egress to 10.0.0.1:443 denied by policy"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := postWith(t, deny, map[string]any{"url": tt.url, "text": "hi"})
			if err == nil || !slices.Contains(tt.denied, err.Error()) {
				t.Fatalf("post: %v, want one of %q", err, tt.denied)
			}
		})
	}
	if len(hits) != 0 {
		t.Fatalf("the default policy let %d requests through", len(hits))
	}
	allowed, err := New(Config{Egress: loopback()}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := postWith(t, allowed, map[string]any{"url": hook.URL + "/services/T/B/X", "text": "hi"}); err != nil || len(hits) != 1 {
		t.Fatalf("post with 127.0.0.1/32 allowed: %v, %d requests", err, len(hits))
	}
}

// TestPostHidesTheFarEnd: a webhook URL is the tenant's choice; what the
// server there answers (its status line's text, its body, a banner) is
// not repeated, its status code is.
func TestPostHidesTheFarEnd(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				line, _ := r.ReadString('\n')
				if strings.Contains(line, "/banner") {
					_, _ = io.WriteString(c, "SSH-2.0-SECRET-BANNER\r\n")
					return
				}
				req, err := http.ReadRequest(bufio.NewReader(io.MultiReader(strings.NewReader(line), r)))
				if err == nil {
					_, _ = io.Copy(io.Discard, req.Body)
				}
				_, _ = io.WriteString(c, "HTTP/1.1 403 SECRET-STATUS\r\nContent-Length: 11\r\nConnection: close\r\n\r\nSECRET-BODY")
			}()
		}
	}()
	p, err := New(Config{Egress: loopback()}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ path, want string }{
		{"/services/T/B/X", "url: the incoming webhook refused the message: HTTP status 403"},
		{"/banner", "url: the incoming webhook refused the message: "},
	} {
		err := postWith(t, p, map[string]any{"url": "http://" + ln.Addr().String() + tt.path, "text": "hi"})
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("post to %s: %v, want %q and nothing the server sent", tt.path, err, tt.want)
		}
	}
}

// TestSocketModeDialerEgressPolicy: Socket Mode's WebSocket, at the URL
// apps.connections.open answers, is dialled through the policy too.
func TestSocketModeDialerEgressPolicy(t *testing.T) {
	fake := newFakeSocket(t)
	deny, err := New(Config{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	link := "ws://" + strings.TrimPrefix(fake.srv.URL, "http://") + "/link/?ticket=TICKET"
	for _, tt := range []struct{ url, want string }{
		{link, "egress to " + strings.TrimPrefix(fake.srv.URL, "http://") + " denied by policy"},
		{"wss://169.254.169.254/link/", "egress to 169.254.169.254:443 denied by policy"},
	} {
		_, _, err := deny.websocketDialer().DialContext(t.Context(), tt.url, nil)
		if got := slackError(err); got != tt.want {
			t.Errorf("dial %s: %q (%v), want %q", tt.url, got, err, tt.want)
		}
	}
	allowed := newProvider(t, fake.srv.URL+"/api/")
	c, _, err := allowed.websocketDialer().DialContext(t.Context(), link, nil)
	if err != nil {
		t.Fatalf("dial %s with 127.0.0.1/32 allowed: %v", link, err)
	}
	c.Close()
}
