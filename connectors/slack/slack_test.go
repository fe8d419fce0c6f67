package slack

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wispio/wisp/actions/builtin"
	"github.com/wispio/wisp/egress"
	"github.com/wispio/wisp/feeds"
	"github.com/wispio/wisp/feeds/feedstest"
)

const testSecret = "8f742231b10e8888abcd99yyyzzz85a5"

// Sign returns Slack's headers for body signed with secret at t.
func Sign(secret string, t time.Time, body []byte) (ts, sig string) {
	ts = strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	return ts, "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// lastPayload is the payload of the last event sink accepted, decoded.
func lastPayload(t testing.TB, sink *feedstest.Sink) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(sink.Last(t).Payload, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// refuse makes a feedstest.Sink refuse every delivery.
func refuse(feeds.Event) bool { return true }

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// loopback is an egress policy open to the fake Slack on 127.0.0.1.
func loopback() *egress.Policy { return egress.New(netip.MustParsePrefix("127.0.0.1/32")) }

func newProvider(t testing.TB, apiURL string) *Provider {
	t.Helper()
	p, err := New(Config{PublicURL: "https://wisp.example.com", APIURL: apiURL, Egress: loopback()}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func startFeed(t testing.TB, p *Provider) (*feedstest.Sink, feeds.Feed) {
	t.Helper()
	sink := feedstest.NewSink()
	st, _ := p.Register(context.Background(), feeds.Registration{})
	f, err := p.Start(context.Background(), feeds.Registration{Trigger: "/ns/T", State: st,
		Params: map[string]json.RawMessage{"signingSecret": json.RawMessage(`"` + testSecret + `"`)}}, sink)
	if err != nil {
		t.Fatal(err)
	}
	if ep := p.Endpoint(feeds.Registration{State: st}); !strings.HasPrefix(ep, "https://wisp.example.com/hooks/slack/") {
		t.Fatalf("endpoint = %q", ep)
	}
	return sink, f
}

type request struct {
	path, contentType string
	body              []byte
	at                time.Time // signing time; zero: unsigned
	secret            string
}

func (r request) send(p *Provider) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", r.path, bytes.NewReader(r.body))
	req.Header.Set("Content-Type", r.contentType)
	if !r.at.IsZero() {
		ts, sig := Sign(r.secret, r.at, r.body)
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", sig)
	}
	w := httptest.NewRecorder()
	p.HTTPHandler().ServeHTTP(w, req)
	return w
}

func TestHookRequests(t *testing.T) {
	p := newProvider(t, "")
	sink, _ := startFeed(t, p)
	var path string
	for _, id := range p.hooks.IDs() {
		path = "/hooks/slack/" + id
	}
	now := time.Now()
	signed := func(ct string, body []byte) request {
		return request{path: path, contentType: ct, body: body, at: now, secret: testSecret}
	}
	interactive := []byte(url.Values{"payload": {string(fixture(t, "block_actions.json"))}}.Encode())
	tests := []struct {
		name   string
		req    request
		status int
		fired  string // a key of the fired payload; "" means nothing fired
		want   string // in the answer
	}{
		{"url verification", signed("application/json", fixture(t, "url_verification.json")), 200, "", "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"},
		{"message event", signed("application/json", fixture(t, "event_callback.message.json")), 200, "event", ""},
		{"retried event", signed("application/json", fixture(t, "event_callback.message.json")), 200, "", "duplicate"},
		{"slash command", signed("application/x-www-form-urlencoded", fixture(t, "slash_command.form")), 200, "command", ""},
		{"block actions", signed("application/x-www-form-urlencoded", interactive), 200, "actions", ""},
		{"stale timestamp", func() request {
			r := signed("application/json", fixture(t, "event_callback.message.json"))
			r.at = now.Add(-6 * time.Minute)
			return r
		}(), 401, "", ""},
		{"future timestamp", func() request {
			r := signed("application/json", fixture(t, "url_verification.json"))
			r.at = now.Add(6 * time.Minute)
			return r
		}(), 401, "", ""},
		{"wrong secret", func() request {
			r := signed("application/json", fixture(t, "url_verification.json"))
			r.secret = "other"
			return r
		}(), 401, "", ""},
		{"unsigned", func() request {
			r := signed("application/json", fixture(t, "url_verification.json"))
			r.at = time.Time{}
			return r
		}(), 401, "", ""},
		{"malformed json", signed("application/json", []byte(`{"type":`)), 400, "", ""},
		{"callback without event id", signed("application/json", []byte(`{"type":"event_callback","event":{"type":"message"}}`)), 400, "", ""},
		{"callback with a bad event", signed("application/json", []byte(`{"type":"event_callback","event_id":"Ev9","event":"x"}`)), 400, "", ""},
		{"unknown inner event fires", signed("application/json", []byte(`{"type":"event_callback","event_id":"Ev8","event":{"type":"brand_new_event"}}`)), 200, "event", ""},
		{"unknown type", signed("application/json", []byte(`{"type":"something_new"}`)), 202, "", "ignored"},
		{"form without command", signed("application/x-www-form-urlencoded", []byte("a=b")), 400, "", ""},
		{"payload not json", signed("application/x-www-form-urlencoded", []byte("payload=%7Bx")), 400, "", ""},
		{"text body", signed("text/plain", []byte("hi")), 415, "", ""},
		{"too big", signed("application/json", bytes.Repeat([]byte(" "), 2<<20)), 413, "", ""},
		{"unknown hook", func() request {
			r := signed("application/json", fixture(t, "url_verification.json"))
			r.path = "/hooks/slack/NOPE"
			return r
		}(), 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := sink.Count()
			w := tt.req.send(p)
			if w.Code != tt.status || !strings.Contains(w.Body.String(), tt.want) {
				t.Fatalf("answer = %d %s, want %d with %q", w.Code, w.Body, tt.status, tt.want)
			}
			fired := sink.Count() > before
			if fired != (tt.fired != "") {
				t.Fatalf("fired = %v, want %v", fired, tt.fired != "")
			}
			if fired {
				got := lastPayload(t, sink)
				if _, ok := got[tt.fired]; !ok {
					t.Fatalf("payload %v has no %q", got, tt.fired)
				}
				if _, ok := got["token"]; ok {
					t.Fatalf("payload keeps Slack's verification token: %v", got)
				}
			}
		})
	}
}

func TestHookStoreFailureIsRetryable(t *testing.T) {
	p := newProvider(t, "")
	sink, f := startFeed(t, p)
	var path string
	for _, id := range p.hooks.IDs() {
		path = "/hooks/slack/" + id
	}
	body := fixture(t, "event_callback.message.json")
	r := request{path: path, contentType: "application/json", body: body, at: time.Now(), secret: testSecret}
	sink.FailWhen(refuse)
	if w := r.send(p); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("refused delivery = %d", w.Code)
	}
	sink.FailWhen(nil)
	if w := r.send(p); w.Code != 200 || sink.Count() != 1 {
		t.Fatalf("retry = %d, fired %d", w.Code, sink.Count())
	}
	_ = f.Stop(context.Background())
	if w := r.send(p); w.Code != 404 {
		t.Fatalf("after Stop = %d", w.Code)
	}
}

// fakeSlack is the Web API and an incoming webhook; it records requests.
type fakeSlack struct {
	mu    sync.Mutex
	calls []slackCall
	ok    bool
}

type slackCall struct {
	Path, Auth string
	Body       map[string]any
}

func (f *fakeSlack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body := map[string]any{}
	raw, _ := io.ReadAll(r.Body)
	if json.Unmarshal(raw, &body) != nil {
		form, _ := url.ParseQuery(string(raw))
		for k := range form {
			body[k] = form.Get(k)
		}
	}
	f.mu.Lock()
	f.calls = append(f.calls, slackCall{r.URL.Path, r.Header.Get("Authorization"), body})
	ok := f.ok
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case strings.HasPrefix(r.URL.Path, "/services/"):
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		_, _ = io.WriteString(w, "ok")
	case !ok:
		_, _ = io.WriteString(w, `{"ok":false,"error":"invalid_auth"}`)
	case r.URL.Path == "/api/chat.postMessage":
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": body["channel"], "ts": "1503435956.000247"})
	case r.URL.Path == "/api/auth.test":
		_, _ = io.WriteString(w, `{"ok":true,"user_id":"UBOT","team_id":"T1"}`)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func (f *fakeSlack) take() []slackCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

func TestPost(t *testing.T) {
	fake := &fakeSlack{ok: true}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	p := newProvider(t, srv.URL+"/api/")
	post := p.Actions()[0].Func
	call := func(params map[string]any) (map[string]any, error) {
		b, _ := json.Marshal(params)
		out, err := post(context.Background(), builtin.Call{Params: b})
		var m map[string]any
		_ = json.Unmarshal(out, &m)
		return m, err
	}
	tests := []struct {
		name   string
		params map[string]any
		slack  bool // the fake answers success
		want   string
		path   string
	}{
		{"webhook", map[string]any{"url": srv.URL + "/services/T/B/XXSECRET", "text": "hi"}, true, "", "/services/T/B/XXSECRET"},
		{"chat.postMessage", map[string]any{"token": "xoxb-SECRET", "channel": "C1", "text": "hi", "thread_ts": "1.2"}, true, "", "/api/chat.postMessage"},
		{"no text", map[string]any{"token": "xoxb-SECRET", "channel": "C1"}, true, "text: missing", ""},
		{"no channel", map[string]any{"token": "xoxb-SECRET", "text": "hi"}, true, "channel: missing", ""},
		{"neither", map[string]any{"text": "hi"}, true, "url or token: missing", ""},
		{"text not a string", map[string]any{"text": 3, "url": srv.URL}, true, "text: must be a string", ""},
		{"bad url", map[string]any{"url": "ftp://x", "text": "hi"}, true, "url: not an incoming webhook URL", ""},
		{"webhook refuses", map[string]any{"url": srv.URL + "/services/T/B/XXSECRET", "text": "hi"}, false, "url: the incoming webhook refused the message: HTTP status 404", "/services/T/B/XXSECRET"},
		{"token refused", map[string]any{"token": "xoxb-SECRET", "channel": "C1", "text": "hi"}, false, "invalid_auth", "/api/chat.postMessage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake.ok = tt.slack
			res, err := call(tt.params)
			if tt.want == "" && (err != nil || res["ok"] != true) || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("post = %v %v, want %q", res, err, tt.want)
			}
			if err != nil && (strings.Contains(err.Error(), "SECRET")) {
				t.Fatalf("the error repeats a secret: %v", err)
			}
			calls := fake.take()
			if tt.path == "" {
				if len(calls) != 0 {
					t.Fatalf("calls = %+v", calls)
				}
				return
			}
			if len(calls) != 1 || calls[0].Path != tt.path || calls[0].Body["text"] != "hi" {
				t.Fatalf("calls = %+v", calls)
			}
			if tt.path == "/api/chat.postMessage" && (calls[0].Auth != "Bearer xoxb-SECRET" && calls[0].Body["token"] != "xoxb-SECRET" || calls[0].Body["channel"] != "C1" || calls[0].Body["thread_ts"] != tt.params["thread_ts"]) {
				t.Fatalf("chat.postMessage call = %+v", calls[0])
			}
		})
	}
}

func TestValidate(t *testing.T) {
	fake := &fakeSlack{ok: true}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	p := newProvider(t, srv.URL+"/api/")
	tests := []struct {
		name   string
		params string
		ok     bool
		want   string
	}{
		{"secret only", `{"signingSecret":"s"}`, true, ""},
		{"with token", `{"signingSecret":"s","token":"xoxb-SECRET"}`, true, ""},
		{"refused token", `{"signingSecret":"s","token":"xoxb-SECRET"}`, false, "token: Slack refused it"},
		{"no secret", `{"token":"xoxb-SECRET"}`, true, "signingSecret: missing"},
		{"secret not a string", `{"signingSecret":1}`, true, "signingSecret: must be a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake.ok = tt.ok
			var params map[string]json.RawMessage
			_ = json.Unmarshal([]byte(tt.params), &params)
			err := p.Validate(context.Background(), FeedEvents, params)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "SECRET")) {
				t.Fatalf("Validate = %v, want %q", err, tt.want)
			}
		})
	}
}

// FuzzHook sends signed requests of any body and content type: never a
// 5xx.
func FuzzHook(f *testing.F) {
	f.Add("application/json", []byte(`{"type":"event_callback","event_id":"E","event":{"type":"message","text":1}}`))
	f.Add("application/x-www-form-urlencoded", []byte(`payload=%7B%22a%22%3A1%7D`))
	f.Add("application/x-www-form-urlencoded", []byte(`command=%2Fx&trigger_id=1`))
	p := newProvider(f, "")
	startFeed(f, p)
	var path string
	for _, id := range p.hooks.IDs() {
		path = "/hooks/slack/" + id
	}
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		w := request{path: path, contentType: ct, body: body, at: time.Now(), secret: testSecret}.send(p)
		if w.Code >= 500 {
			t.Fatalf("status %d for %q %q", w.Code, ct, body)
		}
	})
}
