package github

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/wispio/wisp/feeds"
	"github.com/wispio/wisp/feeds/feedstest"
)

const testSecret = "s3cret-of-the-feed"

// startHook runs a feed subscribed to events and returns its handler and
// sink.
func startHook(t testing.TB, p *Provider, events string, cursor string) (http.Handler, *feedstest.Sink, feeds.Feed) {
	t.Helper()
	sink := feedstest.NewSink()
	st, _ := json.Marshal(state{ID: "HOOKID", Secret: testSecret, HookID: 1, Owner: "octo", Repo: "hello"})
	params := map[string]json.RawMessage{"username": json.RawMessage(`"octo"`), "repository": json.RawMessage(`"hello"`),
		"accessToken": json.RawMessage(`"tok"`), "events": json.RawMessage(`"` + events + `"`)}
	f, err := p.Start(context.Background(), feeds.Registration{Trigger: "/ns/T", Params: params, State: st, Cursor: cursor}, sink)
	if err != nil {
		t.Fatal(err)
	}
	return p.HTTPHandler(), sink, f
}

type delivery struct {
	path, event, id, contentType, sig string
	body                              []byte
}

func (d delivery) send(h http.Handler) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", d.path, bytes.NewReader(d.body))
	if d.event != "" {
		r.Header.Set("X-GitHub-Event", d.event)
	}
	if d.id != "" {
		r.Header.Set("X-GitHub-Delivery", d.id)
	}
	if d.sig != "" {
		r.Header.Set("X-Hub-Signature-256", d.sig)
	}
	r.Header.Set("Content-Type", d.contentType)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func signed(event, id string, body []byte) delivery {
	return delivery{path: "/hooks/github/HOOKID", event: event, id: id, contentType: "application/json", sig: Sign(testSecret, body), body: body}
}

func TestHookDeliveries(t *testing.T) {
	push := readFixture(t, "push.json")
	issues := readFixture(t, "issues.opened.json")
	pr := readFixture(t, "pull_request.opened.json")
	ping := readFixture(t, "ping.json")
	form := []byte(url.Values{"payload": {string(issues)}}.Encode())
	big := append(append([]byte(`{"pad":"`), bytes.Repeat([]byte("x"), 2<<20)...), `"}`...)
	tests := []struct {
		name   string
		req    delivery
		status int
		fired  bool
	}{
		{"push", signed("push", "d-push", push), 200, true},
		{"issues", signed("issues", "d-issues", issues), 200, true},
		{"pull request", signed("pull_request", "d-pr", pr), 200, true},
		{"form encoded", func() delivery {
			d := signed("issues", "d-form", form)
			d.contentType = "application/x-www-form-urlencoded"
			return d
		}(), 200, true},
		{"ping not subscribed", signed("ping", "d-ping", ping), 202, false},
		{"redelivery", signed("push", "d-push", push), 200, false},
		{"bad signature", func() delivery { d := signed("push", "d-bad", push); d.sig = Sign("other", push); return d }(), 401, false},
		{"sha1 signature", func() delivery { d := signed("push", "d-sha1", push); d.sig = "sha1=0000"; return d }(), 401, false},
		{"no signature", func() delivery { d := signed("push", "d-none", push); d.sig = ""; return d }(), 401, false},
		{"tampered body", func() delivery {
			d := signed("push", "d-tamper", push)
			d.body = bytes.Replace(push, []byte(`"ref"`), []byte(`"reF"`), 1)
			return d
		}(), 401, false},
		{"no event header", signed("", "d-noevent", push), 400, false},
		{"no delivery id", signed("push", "", push), 400, false},
		{"malformed push", signed("push", "d-malformed", []byte(`{"ref": 12}`)), 400, false},
		{"not an object", signed("push", "d-array", []byte(`[1,2]`)), 400, false},
		{"wrong content type", func() delivery { d := signed("push", "d-ct", push); d.contentType = "text/plain"; return d }(), 415, false},
		{"too big", signed("push", "d-big", big), 413, false},
		{"unknown hook", func() delivery { d := signed("push", "d-unknown", push); d.path = "/hooks/github/NOPE"; return d }(), 404, false},
	}
	p, _ := newProvider(t)
	p.cfg.MaxBody = 1 << 20
	h, sink, _ := startHook(t, p, "push,issues,pull_request", "")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := sink.Count()
			w := tt.req.send(h)
			if w.Code != tt.status {
				t.Fatalf("status = %d %s, want %d", w.Code, w.Body, tt.status)
			}
			if fired := sink.Count() > before; fired != tt.fired {
				t.Fatalf("fired = %v, want %v", fired, tt.fired)
			}
			if tt.fired {
				want := tt.req.body
				if tt.req.contentType != "application/json" {
					want = issues
				}
				if !bytes.Equal(sink.Last(t).Payload, want) {
					t.Fatalf("payload is not the event body")
				}
			}
		})
	}
	if c := sink.Cursor(); !strings.Contains(c, `"d-push"`) || !strings.Contains(c, `"d-form"`) {
		t.Fatalf("cursor = %s", c)
	}
}

func TestHookRemembersDeliveriesAcrossRestartsAndStops(t *testing.T) {
	p, _ := newProvider(t)
	push := readFixture(t, "push.json")
	h, sink, f := startHook(t, p, "*", `["d-1"]`)
	if w := signed("push", "d-1", push).send(h); w.Code != 200 || sink.Count() != 0 {
		t.Fatalf("a delivery of the cursor = %d, fired %d", w.Code, sink.Count())
	}
	if w := signed("ping", "d-2", readFixture(t, "ping.json")).send(h); w.Code != 200 || sink.Count() != 1 {
		t.Fatalf("ping with * = %d, fired %d", w.Code, sink.Count())
	}
	sink.FailWhen(refuse)
	if w := signed("push", "d-3", push).send(h); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("delivery refused by the sink = %d", w.Code)
	}
	sink.FailWhen(nil)
	if w := signed("push", "d-3", push).send(h); w.Code != 200 || sink.Count() != 2 {
		t.Fatalf("redelivery after a refusal = %d, fired %d", w.Code, sink.Count())
	}
	if err := f.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if w := signed("push", "d-4", push).send(h); w.Code != 404 {
		t.Fatalf("delivery to a stopped feed = %d", w.Code)
	}
}

func TestRecentDeliveriesAreBounded(t *testing.T) {
	p, _ := newProvider(t)
	p.cfg.RecentDeliveries = 3
	h, sink, _ := startHook(t, p, "push", "")
	body := readFixture(t, "push.json")
	for _, id := range []string{"a", "b", "c", "d"} {
		signed("push", id, body).send(h)
	}
	if c := sink.Cursor(); c != `["b","c","d"]` {
		t.Fatalf("cursor = %s", c)
	}
}

// FuzzHook sends signed deliveries of any body and event: never a 5xx.
func FuzzHook(f *testing.F) {
	f.Add("push", []byte(`{"ref":"refs/heads/main"}`))
	f.Add("issues", []byte(`{"action":"opened","issue":{"number":"x"}}`))
	f.Add("pull_request", []byte(`null`))
	p, _ := New(Config{PublicURL: "http://x"}, slog.New(slog.DiscardHandler))
	h, _, _ := startHook(f, p, "*", "")
	f.Fuzz(func(t *testing.T, event string, body []byte) {
		w := signed(event, "id", body).send(h)
		if w.Code >= 500 {
			t.Fatalf("status %d for %q %q", w.Code, event, body)
		}
	})
}
