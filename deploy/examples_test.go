package deploy_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wispio/wisp/catalog"
	"github.com/wispio/wisp/client"
	"github.com/wispio/wisp/deploy"
	"github.com/wispio/wisp/internal/testenv"
	"github.com/wispio/wisp/store"
)

// TestExampleHelloEvents deploys examples/hello-events as a user would, fires
// its trigger, and removes it; then again with its deployment file.
func TestExampleHelloEvents(t *testing.T) {
	e := start(t)
	dir := filepath.Join(testenv.RepoRoot(t), "examples", "hello-events")
	manifest := filepath.Join(dir, "manifest.yaml")

	p, err := deploy.Load(manifest, "", lookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	e.deploy(p)
	if got := e.fired("visitor-arrived", map[string]any{"name": "Ada"}); got["text"] != "HELLO ADA! WELCOME TO THE LOBBY." {
		t.Errorf("welcome = %v", got)
	}

	p, err = deploy.Load(manifest, filepath.Join(dir, "deployment.yaml"), lookup(map[string]string{"PLACE": "the garden"}))
	if err != nil {
		t.Fatal(err)
	}
	e.deploy(p)
	if got := e.fired("visitor-arrived", map[string]any{"name": "Grace"}); got["text"] != "BONJOUR GRACE! WELCOME TO THE GARDEN." {
		t.Errorf("welcome with the deployment file = %v", got)
	}

	e.undeploy("hello-events")
	if left := e.names(); len(left) != 0 {
		t.Errorf("undeploy left %v", left)
	}
}

// TestExampleScheduledJob deploys examples/scheduled-job: first as written
// (03:00 Paris time: the alarm's READ shows that schedule), then with its
// deployment file and an every-second cron, so that the cleanup runs with
// the trigger_payload; undeploy stops the alarm and removes everything.
func TestExampleScheduledJob(t *testing.T) {
	e := start(t)
	dir := filepath.Join(testenv.RepoRoot(t), "examples", "scheduled-job")
	manifest := filepath.Join(dir, "manifest.yaml")
	const feed = "/whisk.system/alarms/alarm"

	p, err := deploy.Load(manifest, "", lookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	e.deploy(p)
	state, err := e.feedRead(feed, "nightly")
	if err != nil {
		t.Fatal(err)
	}
	var read struct {
		Status string
		Config map[string]any
	}
	remarshal(t, state, &read)
	if read.Status != "active" || read.Config["cron"] != "0 3 * * *" || read.Config["timezone"] != "Europe/Paris" {
		t.Errorf("the alarm as deployed: %v", state)
	}

	p, err = deploy.Load(manifest, filepath.Join(dir, "deployment.yaml"), lookup(map[string]string{"CRON": "* * * * * *"}))
	if err != nil {
		t.Fatal(err)
	}
	e.deploy(p)
	e.waitFor("the alarm to run scheduled-job/cleanup with its payload", func() bool {
		for _, act := range e.activationsOf("scheduled-job/cleanup") {
			var r struct {
				Job           string
				OlderThanDays int
				DryRun        bool
			}
			if act.Response.Success && json.Unmarshal(act.Response.Result, &r) == nil &&
				r.Job == "purge-sessions" && r.OlderThanDays == 30 && r.DryRun &&
				len(act.Logs) == 1 && strings.Contains(act.Logs[0], "purge-sessions: would delete the entries older than") {
				return true
			}
		}
		return false
	})

	e.undeploy("scheduled-job")
	if left := e.names(); len(left) != 0 {
		t.Errorf("undeploy left %v", left)
	}
	e.noFeed(feed, "nightly")
}

// feedRead asks a feed action for a trigger's registration (READ), as
// wisp trigger get does; an error is the feed's answer when it has none.
func (e *env) feedRead(feed, trigger string) (map[string]any, error) {
	e.t.Helper()
	params := map[string]any{"lifecycleEvent": "READ", "triggerName": "/dep/" + trigger, "authKey": e.auth}
	inv, _, err := e.c.InvokeAction(context.Background(), feed, params, true, true)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(inv.Result, &out); err != nil {
		e.t.Fatalf("READ of %s: %s: %v", feed, inv.Result, err)
	}
	return out, nil
}

// noFeed checks that the feed manager holds no registration: READ fails
// and the store has none.
func (e *env) noFeed(feed, trigger string) {
	e.t.Helper()
	if state, err := e.feedRead(feed, trigger); err == nil {
		e.t.Errorf("READ of %s after undeploy = %v, want an error", trigger, state)
	}
	n, err := e.srv.Store().Count(context.Background(), catalog.SystemNamespace, store.Feeds, "")
	if err != nil {
		e.t.Fatal(err)
	}
	if n != 0 {
		e.t.Errorf("%d feed registrations after undeploy", n)
	}
}

// activationsOf lists the activations of an entity ("pkg/name"), newest
// first, with results and logs.
func (e *env) activationsOf(name string) []client.Activation {
	e.t.Helper()
	acts, _, err := e.c.ListActivations(context.Background(), client.ActivationListOptions{Name: name, Docs: true, Limit: 200})
	if err != nil {
		e.t.Fatal(err)
	}
	return acts
}

// waitFor polls cond until it holds; it fails the test after 30 s, long
// enough for a loaded machine, short enough for a hung feed.
func (e *env) waitFor(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func remarshal(t *testing.T, in, out any) {
	t.Helper()
	data, err := json.Marshal(in)
	if err == nil {
		err = json.Unmarshal(data, out)
	}
	if err != nil {
		t.Fatalf("decode %v: %v", in, err)
	}
}
