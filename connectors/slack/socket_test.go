package slack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wispio/wisp/actions/builtin"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/feeds"
	"github.com/wispio/wisp/feeds/feedstest"
	"github.com/wispio/wisp/routing"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/store/bolt"
)

const testAppToken = "xapp-1-A123ABC456-SECRET"

// fakeSocket is Slack's apps.connections.open and the WebSocket URL it
// answers, as Socket Mode uses them.
type fakeSocket struct {
	srv   *httptest.Server
	conns chan *websocket.Conn
	opens atomic.Int32 // apps.connections.open calls with the right token
}

func newFakeSocket(t testing.TB) *fakeSocket {
	t.Helper()
	f := &fakeSocket{conns: make(chan *websocket.Conn, 4)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/apps.connections.open", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer "+testAppToken {
			_, _ = io.WriteString(w, `{"ok":false,"error":"invalid_auth"}`)
			return
		}
		f.opens.Add(1)
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "url": "ws://" + r.Host + "/link/?ticket=TICKET&app_id=A123ABC456"})
	})
	upgrader := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	mux.HandleFunc("GET /link/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("ticket") != "TICKET" {
			http.Error(w, "no ticket", http.StatusUnauthorized)
			return
		}
		c, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		f.conns <- c
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// socketConn is the Slack end of one Socket Mode connection.
type socketConn struct {
	t testing.TB
	c *websocket.Conn
}

// accept takes the next connection the feed makes, says hello, and pings
// it every 100 ms as Slack does (slack-go reconnects without pings).
func (f *fakeSocket) accept(t testing.TB) *socketConn {
	t.Helper()
	var c *websocket.Conn
	select {
	case c = <-f.conns:
	case <-time.After(10 * time.Second):
		t.Fatal("the feed did not connect to the Socket Mode URL")
	}
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop); _ = c.Close() })
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if c.WriteControl(websocket.PingMessage, nil, time.Now().Add(time.Second)) != nil {
					return
				}
			}
		}
	}()
	s := &socketConn{t: t, c: c}
	s.send(fixture(t, "socket_hello.json"))
	return s
}

func (s *socketConn) send(msg []byte) {
	s.t.Helper()
	if err := s.c.WriteMessage(websocket.TextMessage, msg); err != nil {
		s.t.Fatal(err)
	}
}

// ack reads the next message, which must be an acknowledgement, and
// answers its envelope_id.
func (s *socketConn) ack() string {
	s.t.Helper()
	_ = s.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, msg, err := s.c.ReadMessage()
	if err != nil {
		s.t.Fatalf("no acknowledgement: %v", err)
	}
	var res struct {
		EnvelopeID string          `json:"envelope_id"`
		Payload    json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(msg, &res); err != nil || res.EnvelopeID == "" {
		s.t.Fatalf("not an acknowledgement: %s", msg)
	}
	if len(res.Payload) != 0 {
		s.t.Fatalf("the acknowledgement carries a payload: %s", msg)
	}
	return res.EnvelopeID
}

// closed expects the feed to close the socket.
func (s *socketConn) closed() {
	s.t.Helper()
	_ = s.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, msg, err := s.c.ReadMessage()
		var ne net.Error
		switch {
		case err == nil:
			s.t.Fatalf("the socket is open; it sent %s", msg)
		case errors.As(err, &ne) && ne.Timeout():
			s.t.Fatal("the socket is still open")
		default:
			return
		}
	}
}

// envelope is a fixture envelope with changes.
func envelope(t testing.TB, name string, change func(env, payload map[string]any)) []byte {
	t.Helper()
	var env map[string]any
	if err := json.Unmarshal(fixture(t, name), &env); err != nil {
		t.Fatal(err)
	}
	if change != nil {
		change(env, env["payload"].(map[string]any))
	}
	b, _ := json.Marshal(env)
	return b
}

// payloadAt is the payload of the i-th event sink accepted, decoded.
func payloadAt(t testing.TB, sink *feedstest.Sink, i int) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(sink.Events()[i].Payload, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func socketParams(token string) map[string]json.RawMessage {
	return map[string]json.RawMessage{"appToken": json.RawMessage(`"` + token + `"`)}
}

// httpFired is what the Events API path fires for the HTTP fixtures the
// Socket Mode envelopes carry: event callback, slash command, block
// actions.
func httpFired(t *testing.T, p *Provider) []any {
	t.Helper()
	sink, f := startFeed(t, p)
	defer func() { _ = f.Stop(context.Background()) }()
	path := "/hooks/slack/" + p.hooks.IDs()[0]
	interactive := []byte(url.Values{"payload": {string(fixture(t, "block_actions.json"))}}.Encode())
	for _, r := range []request{
		{path: path, contentType: "application/json", body: fixture(t, "event_callback.message.json")},
		{path: path, contentType: "application/x-www-form-urlencoded", body: append(fixture(t, "slash_command.form"), "&is_enterprise_install=false"...)},
		{path: path, contentType: "application/x-www-form-urlencoded", body: interactive},
	} {
		r.at, r.secret = time.Now(), testSecret
		if w := r.send(p); w.Code != http.StatusOK {
			t.Fatalf("the HTTP path answers %d %s", w.Code, w.Body)
		}
	}
	out := make([]any, sink.Count())
	for i := range out {
		out[i] = payloadAt(t, sink, i)
	}
	return out
}

func TestSocketMode(t *testing.T) {
	fake := newFakeSocket(t)
	p := newProvider(t, fake.srv.URL+"/api/")
	want := httpFired(t, p)

	if ep := p.Endpoint(feeds.Registration{Params: socketParams(testAppToken)}); ep != "" {
		t.Fatalf("a Socket Mode feed has the endpoint %q", ep)
	}
	sink := feedstest.NewSink()
	f, err := p.Start(context.Background(), feeds.Registration{Trigger: "/ns/T", Params: socketParams(testAppToken)}, sink)
	if err != nil {
		t.Fatal(err)
	}
	conn := fake.accept(t)
	if len(p.hooks.IDs()) != 0 {
		t.Fatalf("a Socket Mode feed serves a hook: %v", p.hooks.IDs())
	}
	retried := func(envelopeID string) func(env, payload map[string]any) {
		return func(env, _ map[string]any) {
			env["envelope_id"], env["retry_attempt"], env["retry_reason"] = envelopeID, 1, "timeout"
		}
	}
	tests := []struct {
		name     string
		envelope []byte
		ack      string
		fired    int // events fired so far, counted when the ack arrives
		payload  any // the last one's, when it fired
	}{
		{"events_api", envelope(t, "socket_events_api.json", nil), "dbdd0ef3-1543-4f94-bfb4-133d0e6c1545", 1, want[0]},
		{"slash_commands", envelope(t, "socket_slash_commands.json", nil), "1d3c32a5-7e4f-4a0e-9b5d-2f2b7c8d9e01", 2, want[1]},
		{"interactive", envelope(t, "socket_interactive.json", nil), "57d6a792-4d35-4d0b-b6aa-3361493e1caf", 3, want[2]},
		{"retried envelope", envelope(t, "socket_events_api.json", retried("dbdd0ef3-1543-4f94-bfb4-133d0e6c1545")), "dbdd0ef3-1543-4f94-bfb4-133d0e6c1545", 3, nil},
		{"retry in a new envelope", envelope(t, "socket_events_api.json", retried("retry-envelope")), "retry-envelope", 3, nil},
		{"retried slash command", envelope(t, "socket_slash_commands.json", nil), "1d3c32a5-7e4f-4a0e-9b5d-2f2b7c8d9e01", 3, nil},
		{"unknown inner event fires", envelope(t, "socket_events_api.json", func(env, payload map[string]any) {
			env["envelope_id"], payload["event_id"], payload["event"] = "e-new", "Ev-new", map[string]any{"type": "brand_new_event"}
		}), "e-new", 4, nil},
		{"malformed callback is acknowledged, not fired", envelope(t, "socket_events_api.json", func(env, payload map[string]any) {
			env["envelope_id"], payload["event_id"], payload["event"] = "e-bad", "Ev-bad", "x"
		}), "e-bad", 4, nil},
		{"other outer type is acknowledged, not fired", envelope(t, "socket_events_api.json", func(env, payload map[string]any) {
			env["envelope_id"], payload["type"] = "e-other", "something_new"
		}), "e-other", 4, nil},
		{"slash command without command", envelope(t, "socket_slash_commands.json", func(env, payload map[string]any) {
			env["envelope_id"], payload["command"] = "c-bad", ""
		}), "c-bad", 4, nil},
		{"unknown envelope type", []byte(`{"type":"brand_new","envelope_id":"u-1","payload":{}}`), "u-1", 4, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn.send(tt.envelope)
			if got := conn.ack(); got != tt.ack {
				t.Fatalf("ack for %q, want %q", got, tt.ack)
			}
			if n := sink.Count(); n != tt.fired {
				t.Fatalf("%d events delivered when the ack arrived, want %d", n, tt.fired)
			}
			if tt.payload != nil {
				if got := payloadAt(t, sink, tt.fired-1); !reflect.DeepEqual(got, tt.payload) {
					t.Fatalf("fired %v\nthe HTTP path fires %v", got, tt.payload)
				}
			}
		})
	}

	t.Run("not stored is not acknowledged", func(t *testing.T) {
		before := sink.Count()
		sink.FailWhen(refuse)
		conn.send(envelope(t, "socket_events_api.json", func(env, payload map[string]any) {
			env["envelope_id"], payload["event_id"] = "e-lost", "Ev-lost"
		}))
		// The envelope the store refused is acknowledged never: the next
		// acknowledgement is its retry's.
		conn.send([]byte(`{"type":"unknown_to_flush","envelope_id":"flush","payload":{}}`))
		if got := conn.ack(); got != "flush" {
			t.Fatalf("ack for %q, want none before flush", got)
		}
		sink.FailWhen(nil)
		conn.send(envelope(t, "socket_events_api.json", func(env, payload map[string]any) {
			env["envelope_id"], env["retry_attempt"], payload["event_id"] = "e-lost", 1, "Ev-lost"
		}))
		if got := conn.ack(); got != "e-lost" || sink.Count() != before+1 {
			t.Fatalf("retry: ack %q, delivered %d, want e-lost and %d", got, sink.Count(), before+1)
		}
	})

	if err := f.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	conn.closed()

	// A restart from the saved cursor still knows the events fired.
	f, err = p.Start(context.Background(), feeds.Registration{Trigger: "/ns/T", Params: socketParams(testAppToken), Cursor: sink.Cursor()}, sink)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Stop(context.Background()) }()
	conn = fake.accept(t)
	before := sink.Count()
	conn.send(envelope(t, "socket_events_api.json", func(env, _ map[string]any) { env["retry_attempt"] = 2 }))
	if got := conn.ack(); got != "dbdd0ef3-1543-4f94-bfb4-133d0e6c1545" || sink.Count() != before {
		t.Fatalf("after a restart, a retry: ack %q, delivered %d more", got, sink.Count()-before)
	}
}

func TestSocketModeValidate(t *testing.T) {
	fake := newFakeSocket(t)
	p := newProvider(t, fake.srv.URL+"/api/")
	noPublicURL, err := New(Config{APIURL: fake.srv.URL + "/api/", Egress: loopback()}, p.log)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		p      *Provider
		params string
		want   string
	}{
		{"app token", p, `{"appToken":"` + testAppToken + `"}`, ""},
		{"no public URL needed", noPublicURL, `{"appToken":"` + testAppToken + `"}`, ""},
		{"app token wins over signing secret", p, `{"appToken":"` + testAppToken + `","signingSecret":"s"}`, ""},
		{"refused app token", p, `{"appToken":"xapp-1-A1-OTHERSECRET"}`, "appToken: Slack refused it (apps.connections.open: invalid_auth)"},
		{"bot token as app token", p, `{"appToken":"xoxb-SECRET"}`, "appToken: not an app-level token"},
		{"app token not a string", p, `{"appToken":1}`, "appToken: must be a string"},
		{"empty app token means the Events API", noPublicURL, `{"appToken":"","signingSecret":"s"}`, "no public URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var params map[string]json.RawMessage
			_ = json.Unmarshal([]byte(tt.params), &params)
			err := tt.p.Validate(context.Background(), FeedEvents, params)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("Validate = %v, want %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "SECRET") {
				t.Fatalf("the error repeats the token: %v", err)
			}
		})
	}
}

// firer records the event_id of each fire.
type firer struct{ fired chan string }

func (f *firer) Fire(_ context.Context, req routing.FireRequest) (*routing.FireResult, error) {
	id, _ := req.Payload.GetString("event_id")
	f.fired <- id
	return &routing.FireResult{}, nil
}

type noDeleter struct{}

func (noDeleter) DeleteTrigger(context.Context, entity.FQN) (*entity.Trigger, error) {
	return nil, errors.New("not in this test")
}

// socketManager runs the Slack provider in a feeds.Manager over st.
type socketManager struct {
	t      *testing.T
	m      *feeds.Manager
	feed   builtin.Func
	firer  *firer
	closed bool
}

func newSocketManager(t *testing.T, st store.Store, apiURL string, fired *firer) *socketManager {
	t.Helper()
	m, err := feeds.New(feeds.Config{RetryMin: time.Millisecond, RetryMax: 10 * time.Millisecond}, st, slog.New(slog.NewTextHandler(io.Discard, nil)), newProvider(t, apiURL))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background(), fired, noDeleter{}); err != nil {
		t.Fatal(err)
	}
	sm := &socketManager{t: t, m: m, feed: m.Builtins()[feeds.HandlerName("slack", FeedEvents)], firer: fired}
	t.Cleanup(sm.close)
	return sm
}

func (sm *socketManager) close() {
	if !sm.closed {
		sm.closed = true
		_ = sm.m.Close(context.Background())
	}
}

func (sm *socketManager) call(params map[string]any) (map[string]any, error) {
	params["triggerName"] = "/ns/chat"
	raw, _ := json.Marshal(params)
	out, err := sm.feed(context.Background(), builtin.Call{Namespace: "ns", Action: "/whisk.system/slack/events", Params: raw})
	if err != nil {
		return nil, err
	}
	var answer map[string]any
	_ = json.Unmarshal(out, &answer)
	return answer, nil
}

func (sm *socketManager) must(event string) map[string]any {
	sm.t.Helper()
	a, err := sm.call(map[string]any{"lifecycleEvent": event})
	if err != nil {
		sm.t.Fatalf("%s: %v", event, err)
	}
	return a
}

func (sm *socketManager) nextFire() string {
	sm.t.Helper()
	select {
	case id := <-sm.firer.fired:
		return id
	case <-time.After(10 * time.Second):
		sm.t.Fatal("the trigger did not fire")
		return ""
	}
}

// withEventID is the events_api fixture as a new event in a new envelope.
func withEventID(t testing.TB, id string) []byte {
	return envelope(t, "socket_events_api.json", func(env, payload map[string]any) {
		env["envelope_id"], payload["event_id"] = "env-"+id, id
	})
}

// TestSocketModeFeedLifecycle runs a Socket Mode feed through the feed
// manager: CREATE connects (a refused app token fails it, naming
// appToken), READ hides the token, PAUSE and DELETE close the socket,
// UNPAUSE and a server restart connect again, and a retried event fires
// once across all of them.
func TestSocketModeFeedLifecycle(t *testing.T) {
	fake := newFakeSocket(t)
	st, err := bolt.Open(filepath.Join(t.TempDir(), "wisp.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := store.PutDoc(context.Background(), st, "ns", store.Triggers, "chat", "", entity.Trigger{Namespace: "ns", Name: "chat"}); err != nil {
		t.Fatal(err)
	}
	fired := &firer{fired: make(chan string, 16)}
	sm := newSocketManager(t, st, fake.srv.URL+"/api/", fired)

	_, err = sm.call(map[string]any{"lifecycleEvent": "CREATE", "appToken": "xapp-1-A1-WRONGSECRET"})
	if err == nil || !strings.Contains(err.Error(), "appToken") || strings.Contains(err.Error(), "WRONGSECRET") {
		t.Fatalf("CREATE with a refused token = %v", err)
	}
	created, err := sm.call(map[string]any{"lifecycleEvent": "CREATE", "appToken": testAppToken})
	if err != nil {
		t.Fatal(err)
	}
	if _, has := created["endpoint"]; has {
		t.Fatalf("CREATE answers an endpoint: %v", created)
	}
	conn := fake.accept(t)
	if read := sm.must("READ"); read["config"].(map[string]any)["appToken"] != "********" || read["status"] != "active" {
		t.Fatalf("READ = %v", read)
	}

	first := envelope(t, "socket_events_api.json", nil)
	conn.send(first)
	if got := conn.ack(); got != "dbdd0ef3-1543-4f94-bfb4-133d0e6c1545" {
		t.Fatalf("ack %q", got)
	}
	if id := sm.nextFire(); id != "Ev123ABC456" {
		t.Fatalf("fired %q", id)
	}

	sm.must("PAUSE")
	conn.closed()
	sm.must("UNPAUSE")
	conn = fake.accept(t)
	// The retry fires nothing: the next fire is the next event's.
	conn.send(first)
	conn.send(withEventID(t, "Ev2"))
	if a, b := conn.ack(), conn.ack(); a != "dbdd0ef3-1543-4f94-bfb4-133d0e6c1545" || b != "env-Ev2" {
		t.Fatalf("acks %q %q", a, b)
	}
	if id := sm.nextFire(); id != "Ev2" {
		t.Fatalf("after UNPAUSE fired %q, want Ev2", id)
	}

	// A restart starts the feed from its stored registration.
	sm.close()
	conn.closed()
	sm = newSocketManager(t, st, fake.srv.URL+"/api/", fired)
	conn = fake.accept(t)
	conn.send(first)
	conn.send(withEventID(t, "Ev3"))
	if a, b := conn.ack(), conn.ack(); a != "dbdd0ef3-1543-4f94-bfb4-133d0e6c1545" || b != "env-Ev3" {
		t.Fatalf("acks %q %q", a, b)
	}
	if id := sm.nextFire(); id != "Ev3" {
		t.Fatalf("after a restart fired %q, want Ev3", id)
	}

	if deleted := sm.must("DELETE"); deleted["status"] != "deleted" {
		t.Fatalf("DELETE = %v", deleted)
	}
	conn.closed()
}
