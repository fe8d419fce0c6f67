package mqtt

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wispio/wisp/actions/builtin"
	"github.com/wispio/wisp/feeds"
	"github.com/wispio/wisp/feeds/feedstest"
	"github.com/wispio/wisp/internal/testenv"
)

// TestEgressPolicy: publish and the feed's Validate refuse, at dial time,
// every address the default policy denies, over every scheme (tcp, TLS,
// WebSocket) and through a host name resolving to loopback, with exactly
// the policy's message; the allow list lets mosquitto through.
func TestEgressPolicy(t *testing.T) {
	mosquitto := testenv.Mosquitto(t)
	u, _ := url.Parse(mosquitto)
	port := u.Port()
	deny := New(DefaultConfig(), slog.New(slog.DiscardHandler)) // nil Egress: the default policy
	loopback := []string{"egress to 127.0.0.1:" + port + " denied by policy"}
	tests := []struct {
		name, url string
		denied    []string
	}{
		{"Loopback", mosquitto, loopback},
		{"LoopbackTLS", "ssl://127.0.0.1:" + port, loopback},
		{"LoopbackWebSocket", "ws://127.0.0.1:" + port, loopback},
		{"Localhost", "tcp://localhost:" + port, []string{"egress to 127.0.0.1:" + port + " denied by policy", "egress to [::1]:" + port + " denied by policy"}},
		{"IPv6Loopback", "tcp://[::1]:" + port, []string{"egress to [::1]:" + port + " denied by policy"}},
		{"CloudMetadata", "tcp://169.254.169.254:80", []string{"egress to 169.254.169.254:80 denied by policy"}},
		{"Private", "mqtt://10.0.0.1:1883", []string{"egress to 10.0.0.1:1883 denied by policy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := deny.Publish(t.Context(), builtin.Call{Params: mustJSON(t, map[string]any{"url": tt.url, "topic": "a", "message": "m"})})
			if err == nil || !slices.Contains(tt.denied, err.Error()) {
				t.Fatalf("Publish: %v, want one of %q", err, tt.denied)
			}
			err = deny.Validate(t.Context(), MessagesFeed, rawParams(t, map[string]any{"url": tt.url, "topic": "a"}))
			if err == nil || !slices.Contains(tt.denied, err.Error()) || !errors.Is(err, feeds.ErrInvalid) {
				t.Fatalf("Validate: %v, want one of %q (invalid)", err, tt.denied)
			}
		})
	}
	if _, err := testProvider().Publish(t.Context(), builtin.Call{Params: mustJSON(t, map[string]any{"url": mosquitto, "topic": uniqueTopic(t), "message": "m"})}); err != nil {
		t.Fatalf("Publish with 127.0.0.1/32 allowed: %v", err)
	}
}

// TestWebSocketBroker publishes over ws:// through the policy's dialer to
// a WebSocket that bridges to a broker, seen by a feed on the broker.
func TestWebSocketBroker(t *testing.T) {
	b := startBroker(t, nil)
	upgrader := websocket.Upgrader{Subprotocols: []string{"mqtt"}}
	bridge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		tcp, err := net.Dial("tcp", b.Addr().String())
		if err != nil {
			return
		}
		defer tcp.Close()
		go func() { _, _ = io.Copy(&wsConn{Conn: ws}, tcp); ws.Close() }()
		_, _ = io.Copy(tcp, &wsConn{Conn: ws})
	}))
	defer bridge.Close()
	sink := feedstest.NewSink()
	startFeed(t, testProvider(), "/guest/ws", map[string]any{"url": b.URL(), "topic": "ws/#"}, sink)
	wsURL := "ws://" + strings.TrimPrefix(bridge.URL, "http://") + "/mqtt"
	if _, err := testProvider().Publish(t.Context(), builtin.Call{Params: mustJSON(t, map[string]any{"url": wsURL, "topic": "ws/x", "message": "over ws", "qos": 1})}); err != nil {
		t.Fatalf("Publish over %s: %v", wsURL, err)
	}
	if m := nextMessage(t, sink); string(m.Payload) != `"over ws"` {
		t.Fatalf("the feed got %s", m.Payload)
	}
}

// TestFarEndTextStaysOut: a far end that is no broker (an SSH banner, an
// HTTP server) fails the connection without its text in the error.
func TestFarEndTextStaysOut(t *testing.T) {
	banner := testenv.Banner(t, "SSH-2.0-SECRET-BANNER\r\n")
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "SECRET-BODY", http.StatusForbidden)
	}))
	defer web.Close()
	p := testProvider()
	p.cfg.ConnectTimeout = time.Second // the HTTP server waits for a request: "no answer in time"
	for _, target := range []string{"tcp://" + banner, "ws://" + strings.TrimPrefix(web.URL, "http://"), "tcp://" + strings.TrimPrefix(web.URL, "http://")} {
		_, err := p.Publish(context.Background(), builtin.Call{Params: mustJSON(t, map[string]any{"url": target, "topic": "a", "message": "m"})})
		if err == nil || !strings.HasPrefix(err.Error(), "url: cannot connect to the broker at "+target+": ") || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("Publish to %s: %v, want a connection error without the far end's text", target, err)
		}
	}
}
