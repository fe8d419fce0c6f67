package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/internal/testenv"
	"github.com/wispio/wisp/metrics"
)

// view GETs the namespace's metrics view of the last hour.
func (a *rawAPI) view() metrics.NamespaceView {
	a.t.Helper()
	var v metrics.NamespaceView
	if err := json.Unmarshal(a.must(200, "GET", "_/metrics?since=0", nil), &v); err != nil {
		a.t.Fatal(err)
	}
	return v
}

// totals sums a view's minutes.
func totals(v metrics.NamespaceView) (m metrics.MinuteView) {
	for _, b := range v.Minutes {
		m.Invocations += b.Invocations
		m.Errors += b.Errors
		m.ColdStarts += b.ColdStarts
		m.TriggerFires += b.TriggerFires
		m.Duration.Count += b.Duration.Count
		m.FeedEvents.Received += b.FeedEvents.Received
		m.FeedEvents.Fired += b.FeedEvents.Fired
		m.FeedEvents.Failed += b.FeedEvents.Failed
	}
	return m
}

func find[T any](items []T, name func(T) string, want string) (T, bool) {
	for _, it := range items {
		if name(it) == want {
			return it, true
		}
	}
	var zero T
	return zero, false
}

// GET /api/v1/namespaces/{ns}/metrics counts a namespace's real invokes,
// fires and feed events, shows another namespace none of them, and names
// the field of a bad since.
func TestNamespaceMetrics(t *testing.T) {
	srv, a := startTriggerServer(t, nil)
	creds := entity.NewCredentials()
	if err := srv.Store().CreateSubject(context.Background(), entity.Subject{Namespace: "other", UUID: creds.UUID, KeyHash: entity.HashKey(creds.Key)}); err != nil {
		t.Fatal(err)
	}
	other := &rawAPI{t: t, base: a.base, auth: creds}
	a.action("hello", 1)
	a.must(200, "PUT", "_/actions/boom", map[string]any{
		"exec": map[string]any{"kind": "nodejs:20", "code": `function main() { return {error: "boom"} }`},
	})
	a.must(200, "PUT", "_/triggers/t", map[string]any{})
	a.rule("r", "t", "hello")
	a.must(200, "PUT", "_/triggers/F", map[string]any{"annotations": []map[string]any{{"key": "feed", "value": "/whisk.system/alarms/alarm"}}})
	a.action("tock", 1)
	a.rule("R", "F", "tock") // a fire without an active rule records nothing

	for range 3 {
		a.must(200, "POST", "_/actions/hello?blocking=true", map[string]any{"n": 1})
	}
	a.must(502, "POST", "_/actions/boom?blocking=true", nil)
	if fired := a.firedActions(a.fire("t", map[string]any{}, http.StatusAccepted)); len(fired) != 1 {
		t.Fatalf("fire started %d actions, want 1", len(fired))
	}
	if status, res := a.feedCall("alarms/alarm", "CREATE", "F", map[string]any{"cron": "* * * * * *"}); status != 200 {
		t.Fatalf("CREATE = %d %v", status, res)
	}
	var v metrics.NamespaceView
	waitFor(t, "the fire of t, hello's four runs and a fired alarm of F in the view", func() bool {
		v = a.view()
		hello, _ := find(v.Actions, func(a metrics.ActionView) string { return a.Name }, "hello")
		f, _ := find(v.Triggers, func(t metrics.TriggerView) string { return t.Name }, "F")
		tr, _ := find(v.Triggers, func(t metrics.TriggerView) string { return t.Name }, "t")
		ok := hello.Invocations == 4 && f.FeedEvents.Fired >= 1 && f.Fires >= 1 && tr.Fires == 1
		return ok
	})
	if status, res := a.feedCall("alarms/alarm", "DELETE", "F", nil); status != 200 {
		t.Fatalf("DELETE = %d %v", status, res)
	}
	v = a.view()

	if v.Namespace != "fire" || v.Scope != metrics.ScopeProcess || len(v.Minutes) != 60 {
		t.Errorf("view of %q, scope %q, %d minutes; want fire, process, 60", v.Namespace, v.Scope, len(v.Minutes))
	}
	name := func(a metrics.ActionView) string { return a.Name }
	hello, _ := find(v.Actions, name, "hello")
	boom, _ := find(v.Actions, name, "boom")
	for _, tt := range []struct {
		what      string
		got, want int64
	}{
		{"hello's invocations", hello.Invocations, 4},
		{"hello's errors", hello.Errors, 0},
		{"hello's cold starts", hello.ColdStarts, 1},
		{"boom's invocations", boom.Invocations, 1},
		{"boom's errors", boom.Errors, 1},
	} {
		if tt.got != tt.want {
			t.Errorf("%s = %d, want %d", tt.what, tt.got, tt.want)
		}
	}
	sum := totals(v)
	var invocations, errs int64
	for _, act := range v.Actions {
		invocations += act.Invocations
		errs += act.Errors
	}
	if sum.Invocations != invocations || sum.Errors != errs || sum.Duration.Count != invocations {
		t.Errorf("minutes count %d invocations (%d durations), %d errors; the actions %d, %d", sum.Invocations, sum.Duration.Count, sum.Errors, invocations, errs)
	}
	f, _ := find(v.Triggers, func(t metrics.TriggerView) string { return t.Name }, "F")
	if f.Provider != "alarms" || f.LastEvent == 0 || f.FeedEvents.Failed != 0 || f.FeedEvents.Received < f.FeedEvents.Fired {
		t.Errorf("feed health of F = %+v", f)
	}
	if sum.FeedEvents != f.FeedEvents {
		t.Errorf("minutes count feed events %+v, F %+v", sum.FeedEvents, f.FeedEvents)
	}
	if sum.TriggerFires != 1+f.Fires {
		t.Errorf("minutes count %d fires, want t's and F's %d", sum.TriggerFires, f.Fires)
	}

	// Another namespace sees none of it, and cannot ask for it.
	ov := other.view()
	if s := totals(ov); s.Invocations != 0 || s.TriggerFires != 0 || s.FeedEvents.Received != 0 || len(ov.Actions) != 0 || len(ov.Triggers) != 0 {
		t.Errorf("namespace other sees %+v, actions %v, triggers %v", s, ov.Actions, ov.Triggers)
	}
	other.must(http.StatusForbidden, "GET", "fire/metrics", nil)
	anon := &rawAPI{t: t, base: a.base, auth: entity.NewCredentials()}
	anon.must(http.StatusUnauthorized, "GET", "_/metrics", nil)

	for _, since := range []string{"yesterday", "-1", "1.5"} {
		status, body := a.do("GET", "_/metrics?since="+since, nil)
		var e struct{ Error, Code string }
		if err := json.Unmarshal(body, &e); err != nil || status != http.StatusBadRequest || !strings.Contains(e.Error, "since") || len(e.Code) != 32 {
			t.Errorf("since=%s answered %d %s, want 400 with an error naming since", since, status, body)
		}
	}
}

// With Config.NoMetrics nothing is recorded: no GET /metrics, an empty
// namespace view, and invokes run as ever.
func TestNoMetrics(t *testing.T) {
	srv, a := startTriggerServer(t, func(cfg *Config) { cfg.NoMetrics = true })
	a.action("hello", 1)
	a.must(200, "POST", "_/actions/hello?blocking=true", map[string]any{})
	if s := totals(a.view()); s.Invocations != 0 {
		t.Errorf("the view counts %d invocations with metrics off", s.Invocations)
	}
	resp, err := http.Get("http://" + srv.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics = %d with metrics off, want 404", resp.StatusCode)
	}
}

// In a cluster the processes send each other what they record: a
// controller's view counts the activations an invoker in another process
// ran, once each.
func TestNamespaceMetricsAcrossCluster(t *testing.T) {
	natsURL := testenv.NATS(t)
	storeURL, _ := couchStore(t, testenv.CouchDB(t))
	prefix := fmt.Sprintf("nsm%d", time.Now().UnixNano())
	cluster := func(id string, roles Roles) func(*Config) {
		return func(c *Config) {
			c.StoreURL, c.Cluster.BusURL, c.Cluster.BusPrefix, c.Cluster.ID, c.Cluster.Roles = storeURL, natsURL, prefix, id, roles
		}
	}
	ctrl, a := startTriggerServer(t, cluster("c1", Roles{Controller: true}))
	cfg := DefaultConfig()
	cfg.Invoker, cfg.Addr, cfg.DataDir = BackendProcess, "127.0.0.1:0", t.TempDir()
	cluster("i1", Roles{Invoker: true})(&cfg)
	inv, err := Start(context.Background(), cfg, slog.New(slog.DiscardHandler), nil) // the store has its subjects
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = inv.Close(context.Background()) })
	waitFor(t, "the invoker's first ping", func() bool { return slices.Contains(ctrl.Invokers(), "i1") })
	a.action("hello", 1)
	for range 3 {
		a.must(200, "POST", "_/actions/hello?blocking=true", map[string]any{})
	}
	var hello metrics.ActionView
	waitFor(t, "the invoker's three runs in the controller's view", func() bool {
		hello, _ = find(a.view().Actions, func(a metrics.ActionView) string { return a.Name }, "hello")
		return hello.Invocations >= 3
	})
	v := a.view()
	if hello.Invocations != 3 || hello.ColdStarts != 1 || v.Scope != metrics.ScopeCluster || totals(v).Invocations != 3 {
		t.Errorf("controller's view: hello %+v, scope %s, %d invocations; want 3 (1 cold), cluster", hello, v.Scope, totals(v).Invocations)
	}
}
