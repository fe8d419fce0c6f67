package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/internal/testenv"
	"github.com/wispio/wisp/store"
)

// feedCall invokes a catalogue feed action as the npm client's
// ow.feeds.* and wsk do: blocking, with lifecycleEvent, triggerName and
// authKey beside the user's parameters. It returns the HTTP status and the
// result.
func (a *rawAPI) feedCall(feed, event, trigger string, params map[string]any) (int, map[string]any) {
	a.t.Helper()
	body := map[string]any{"lifecycleEvent": event, "triggerName": "/_/" + trigger, "authKey": a.auth.String()}
	for k, v := range params {
		body[k] = v
	}
	status, out := a.do("POST", "whisk.system/actions/"+feed+"?blocking=true&result=true", body)
	var result map[string]any
	var act entity.Activation
	if status == http.StatusBadGateway && json.Unmarshal(out, &act) == nil && act.ActivationID != "" {
		out = act.Response.Result // the activation, whose result holds the error
	}
	if err := json.Unmarshal(out, &result); err != nil {
		a.t.Fatalf("feed %s %s answered %d %s", event, feed, status, out)
	}
	return status, result
}

// activationsOf lists the activations of an entity of the namespace.
func (a *rawAPI) activationsOf(name string) []entity.Activation {
	a.t.Helper()
	var acts []entity.Activation
	out := a.must(200, "GET", "_/activations?name="+name+"&docs=true&limit=200", nil)
	if err := json.Unmarshal(out, &acts); err != nil {
		a.t.Fatal(err)
	}
	return acts
}

func TestAlarmFeedEndToEnd(t *testing.T) {
	srv, a := startTriggerServer(t, nil)
	a.action("tick", 1)
	a.must(200, "PUT", "_/triggers/T", map[string]any{"annotations": []map[string]any{{"key": "feed", "value": "/whisk.system/alarms/alarm"}}})
	a.rule("R", "T", "tick")

	// The catalogue lists the alarms package and its feed actions.
	var pkg struct {
		Feeds []struct {
			Name        string
			Annotations entity.Params
		}
	}
	_ = json.Unmarshal(a.must(200, "GET", "whisk.system/packages/alarms", nil), &pkg)
	feeds := map[string]bool{}
	for _, act := range pkg.Feeds {
		feeds[act.Name] = act.Annotations.IsTrue("feed")
	}
	if !feeds["alarm"] || !feeds["once"] || !feeds["interval"] {
		t.Fatalf("/whisk.system/alarms feeds = %+v", pkg.Feeds)
	}

	// Bad parameters: the feed's error names the parameter; nothing stays.
	status, res := a.feedCall("alarms/alarm", "CREATE", "T", map[string]any{"cron": "every now and then"})
	if status != http.StatusBadGateway || !strings.Contains(fmt.Sprint(res["error"]), "cron: pattern") {
		t.Fatalf("CREATE with a bad cron = %d %v", status, res)
	}
	if n, _ := srv.Store().Count(context.Background(), "whisk.system", store.Feeds, ""); n != 0 {
		t.Fatalf("%d registrations after a failed CREATE", n)
	}

	status, res = a.feedCall("alarms/alarm", "CREATE", "T", map[string]any{"cron": "* * * * * *", "trigger_payload": map[string]any{"hello": "world"}})
	if status != 200 || res["ok"] != true {
		t.Fatalf("CREATE = %d %v", status, res)
	}
	// Every second the rule's action runs with the trigger payload.
	waitFor(t, "two alarm fires running tick", func() bool {
		n := 0
		for _, act := range a.activationsOf("tick") {
			var r struct{ Echo map[string]any }
			if json.Unmarshal(act.Response.Result, &r) == nil && r.Echo["hello"] == "world" {
				n++
			}
		}
		return n >= 2
	})

	status, res = a.feedCall("alarms/alarm", "READ", "T", nil)
	cfg, _ := res["config"].(map[string]any)
	if status != 200 || res["status"] != "active" || cfg["cron"] != "* * * * * *" {
		t.Fatalf("READ = %d %v", status, res)
	}
	if _, shown := cfg["authKey"]; shown || strings.Contains(fmt.Sprint(res), a.auth.Key) {
		t.Fatalf("READ shows the key: %v", res)
	}

	// Another namespace cannot touch the feed.
	status, res = a.feedCall("alarms/alarm", "DELETE", "T", map[string]any{"triggerName": "/test/T"})
	if status != http.StatusBadGateway || !strings.Contains(fmt.Sprint(res["error"]), "not in your namespace") {
		t.Fatalf("DELETE of another namespace's trigger = %d %v", status, res)
	}

	status, res = a.feedCall("alarms/alarm", "DELETE", "T", nil)
	if status != 200 || res["status"] != "deleted" {
		t.Fatalf("DELETE = %d %v", status, res)
	}
	status, res = a.feedCall("alarms/alarm", "READ", "T", nil)
	if status != http.StatusBadGateway || !strings.Contains(fmt.Sprint(res["error"]), "has no feed") {
		t.Fatalf("READ after DELETE = %d %v", status, res)
	}
	if n, _ := srv.Store().Count(context.Background(), "whisk.system", store.Feeds, ""); n != 0 {
		t.Fatalf("%d registrations after DELETE", n)
	}
	if n, _ := srv.Store().Count(context.Background(), "whisk.system", store.FeedEvents, ""); n != 0 {
		t.Fatalf("%d outbox events after DELETE", n)
	}
}

// TestFeedSurvivesRestart stops a server with a registered alarm and
// starts another on the same data: the alarm fires again.
func TestFeedSurvivesRestart(t *testing.T) {
	testenv.Node(t)
	dir := t.TempDir()
	creds := entity.NewCredentials()
	start := func(setup func(context.Context, store.Store) error) *Server {
		cfg := DefaultConfig()
		cfg.Invoker, cfg.Addr, cfg.DataDir = BackendProcess, "127.0.0.1:0", dir
		srv, err := Start(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), setup)
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}
	srv := start(func(ctx context.Context, st store.Store) error {
		return st.CreateSubject(ctx, entity.Subject{Namespace: "fire", UUID: creds.UUID, KeyHash: entity.HashKey(creds.Key)})
	})
	a := &rawAPI{t: t, base: "http://" + srv.Addr() + "/api/v1/namespaces/", auth: creds}
	a.action("tick", 1)
	a.must(200, "PUT", "_/triggers/T", map[string]any{})
	a.rule("R", "T", "tick")
	if status, res := a.feedCall("alarms/alarm", "CREATE", "T", map[string]any{"cron": "* * * * * *"}); status != 200 {
		t.Fatalf("CREATE = %d %v", status, res)
	}
	waitFor(t, "a fire", func() bool { return len(a.activationsOf("T")) >= 1 })
	if err := srv.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	srv = start(nil)
	t.Cleanup(func() { _ = srv.Close(context.Background()) })
	a.base = "http://" + srv.Addr() + "/api/v1/namespaces/"
	before := len(a.activationsOf("T"))
	waitFor(t, "a fire after the restart", func() bool { return len(a.activationsOf("T")) > before })
	if status, res := a.feedCall("alarms/alarm", "READ", "T", nil); status != 200 || res["status"] != "active" {
		t.Fatalf("READ after restart = %d %v", status, res)
	}
}
