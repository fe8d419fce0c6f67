package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/throttle"
)

// testClock is a clock the test moves.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *testClock) nextMinute() {
	c.mu.Lock()
	c.now = c.now.Truncate(time.Minute).Add(time.Minute)
	c.mu.Unlock()
}

// startThrottled starts a Wisp with the given default throttles on a test
// clock; a is namespace "fire", other namespace "other".
func startThrottled(t *testing.T, lim throttle.Limits) (srv *Server, a, other *rawAPI, clk *testClock) {
	t.Helper()
	clk = &testClock{now: time.Date(2024, 5, 1, 12, 0, 5, 0, time.UTC)}
	srv, a = startTriggerServer(t, func(cfg *Config) { cfg.Throttles, cfg.ThrottleClock = lim, clk.Now })
	creds := entity.NewCredentials()
	if err := srv.Store().CreateSubject(context.Background(), entity.Subject{Namespace: "other", UUID: creds.UUID, KeyHash: entity.HashKey(creds.Key)}); err != nil {
		t.Fatal(err)
	}
	return srv, a, &rawAPI{t: t, base: a.base, auth: creds}, clk
}

// wantThrottled checks a 429 with OpenWhisk's error body.
func wantThrottled(t *testing.T, status int, body []byte, msg string) {
	t.Helper()
	var e struct{ Error, Code string }
	if err := json.Unmarshal(body, &e); err != nil || status != http.StatusTooManyRequests || e.Error != msg || len(e.Code) != 32 {
		t.Fatalf("answered %d %s, want 429 {\"error\": %q, \"code\": <transaction id>}", status, body, msg)
	}
}

// TestRateThrottles runs each per-minute limit through the whole server:
// the requests past the limit answer 429, another namespace is not
// affected, and the next minute lets requests through again.
func TestRateThrottles(t *testing.T) {
	tests := []struct {
		name  string
		lim   throttle.Limits
		setup func(a *rawAPI)
		// request sends one request and returns its answer.
		request func(a *rawAPI) (int, []byte)
		ok      int
	}{
		{
			name:  "InvocationsPerMinute",
			lim:   throttle.Limits{InvocationsPerMinute: 2},
			setup: func(a *rawAPI) { a.action("echo", 1) },
			request: func(a *rawAPI) (int, []byte) {
				return a.do("POST", "_/actions/echo", map[string]any{})
			},
			ok: http.StatusAccepted,
		},
		{
			// A sequence counts once, however many components it runs.
			name: "SequenceCountsOnce",
			lim:  throttle.Limits{InvocationsPerMinute: 2},
			setup: func(a *rawAPI) {
				a.action("echo", 1)
				a.must(200, "PUT", "_/actions/seq", map[string]any{"exec": map[string]any{"kind": "sequence", "components": []string{"/_/echo", "/_/echo", "/_/echo"}}})
			},
			request: func(a *rawAPI) (int, []byte) {
				return a.do("POST", "_/actions/seq?blocking=true", map[string]any{})
			},
			ok: http.StatusOK,
		},
		{
			// A fire counts whether or not a rule is active.
			name:  "FiresPerMinute",
			lim:   throttle.Limits{FiresPerMinute: 2},
			setup: func(a *rawAPI) { a.must(200, "PUT", "_/triggers/T", map[string]any{}) },
			request: func(a *rawAPI) (int, []byte) {
				return a.do("POST", "_/triggers/T", map[string]any{})
			},
			ok: http.StatusNoContent,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, a, other, clk := startThrottled(t, tt.lim)
			tt.setup(a)
			tt.setup(other)
			for i := range 2 {
				if status, out := tt.request(a); status != tt.ok {
					t.Fatalf("request %d answered %d %s, want %d", i+1, status, out, tt.ok)
				}
			}
			status, out := tt.request(a)
			wantThrottled(t, status, out, "Too many requests in the last minute (count: 3, allowed: 2).")
			status, out = tt.request(a)
			wantThrottled(t, status, out, "Too many requests in the last minute (count: 4, allowed: 2).")
			if status, out := tt.request(other); status != tt.ok {
				t.Fatalf("another namespace answered %d %s, want %d", status, out, tt.ok)
			}
			clk.nextMinute()
			for i := range 2 {
				if status, out := tt.request(a); status != tt.ok {
					t.Fatalf("request %d of the next minute answered %d %s, want %d", i+1, status, out, tt.ok)
				}
			}
		})
	}
}

// gate is an HTTP endpoint that holds every request until released.
type gate struct {
	*httptest.Server
	arrived chan struct{}
	release chan struct{}
}

func newGate(t *testing.T) *gate {
	g := &gate{arrived: make(chan struct{}, 16), release: make(chan struct{})}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.arrived <- struct{}{}
		select {
		case <-g.release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() {
		select {
		case <-g.release:
		default:
			close(g.release)
		}
		g.Close()
	})
	return g
}

const gateJS = `async function main(p) { const r = await fetch(p.gate); return {status: r.status} }`

// TestConcurrentThrottle holds activations in flight at a gate: past the
// limit an invoke answers 429 until one of them completes; non-blocking
// activations count as long as they run.
func TestConcurrentThrottle(t *testing.T) {
	srv, a, other, _ := startThrottled(t, throttle.Limits{ConcurrentInvocations: 2})
	g := newGate(t)
	for _, api := range []*rawAPI{a, other} {
		api.must(200, "PUT", "_/actions/wait", map[string]any{"exec": map[string]any{"kind": "nodejs:20", "code": gateJS}})
	}
	for range 2 {
		a.must(http.StatusAccepted, "POST", "_/actions/wait", map[string]any{"gate": g.URL})
	}
	<-g.arrived
	<-g.arrived
	status, out := a.do("POST", "_/actions/wait", map[string]any{"gate": g.URL})
	wantThrottled(t, status, out, "Too many concurrent requests in flight (count: 2, allowed: 2).")
	// Another namespace has slots of its own.
	other.must(http.StatusAccepted, "POST", "_/actions/wait", map[string]any{"gate": g.URL})

	close(g.release)
	waitFor(t, "the held activations to complete", func() bool { return srv.throttle.InFlight("fire") == 0 })
	if status, out := a.do("POST", "_/actions/wait?blocking=true", map[string]any{"gate": g.URL}); status != http.StatusOK {
		t.Fatalf("after the completions the invoke answered %d %s", status, out)
	}
}

// TestNamespaceOwnLimits gives one namespace a limit of its own while the
// server has none.
func TestNamespaceOwnLimits(t *testing.T) {
	srv, a, other, _ := startThrottled(t, throttle.Limits{})
	one := 1
	if err := srv.Store().SetSubjectLimits(context.Background(), "fire", &entity.NamespaceLimits{InvocationsPerMinute: &one}); err != nil {
		t.Fatal(err)
	}
	a.action("echo", 1)
	other.action("echo", 1)
	a.must(http.StatusAccepted, "POST", "_/actions/echo", map[string]any{})
	status, out := a.do("POST", "_/actions/echo", map[string]any{})
	wantThrottled(t, status, out, "Too many requests in the last minute (count: 2, allowed: 1).")
	for range 5 {
		other.must(http.StatusAccepted, "POST", "_/actions/echo", map[string]any{})
	}
}

// TestRuleActionsAreThrottled checks that a fire's rule actions count as
// invocations: past the limit the trigger activation logs the refusal for
// the rule, as OpenWhisk does.
func TestRuleActionsAreThrottled(t *testing.T) {
	_, a, _, _ := startThrottled(t, throttle.Limits{InvocationsPerMinute: 1})
	a.action("echo", 1)
	a.must(200, "PUT", "_/triggers/T", map[string]any{})
	a.rule("R", "T", "echo")
	if r := a.ruleResults(a.fire("T", map[string]any{}, http.StatusAccepted)); len(r) != 1 || r[0]["success"] != true {
		t.Fatalf("first fire's rule results = %v", r)
	}
	r := a.ruleResults(a.fire("T", map[string]any{}, http.StatusAccepted))
	if len(r) != 1 || r[0]["statusCode"] != float64(entity.StatusApplicationError) ||
		r[0]["error"] != "Too many requests in the last minute (count: 2, allowed: 1)." {
		t.Fatalf("throttled fire's rule results = %v", r)
	}
}
