package server

import (
	"context"
	"net/http"
	"testing"

	"github.com/wispio/wisp/entity"
)

// TestDockerDeadLetter runs the dead-letter flow on the Docker backend: a
// Node.js action whose container process crashes is attempted twice, each
// in a fresh container, then the dead-letter trigger's rule gets the event
// and the failure.
func TestDockerDeadLetter(t *testing.T) {
	srv, _ := startDocker(t, func(cfg *Config) { cfg.Pool.StemCells = nil })
	creds := entity.NewCredentials()
	if err := srv.Store().CreateSubject(context.Background(), entity.Subject{Namespace: "fire", UUID: creds.UUID, KeyHash: entity.HashKey(creds.Key)}); err != nil {
		t.Fatal(err)
	}
	a := &rawAPI{t: t, base: "http://" + srv.Addr() + "/api/v1/namespaces/", auth: creds}
	a.must(200, "PUT", "_/actions/crash", map[string]any{"exec": map[string]any{"kind": "nodejs:20", "code": crashCode}})
	a.action("catcher", 1)
	a.must(200, "PUT", "_/triggers/T", map[string]any{})
	a.must(200, "PUT", "_/triggers/DL", map[string]any{})
	a.rule("catch", "DL", "catcher")
	a.must(200, "PUT", "_/rules/R", map[string]any{"trigger": "/_/T", "action": "/_/crash", "deadLetter": "DL",
		"retry": map[string]any{"attempts": 2, "backoff": map[string]any{"initial": "100ms"}}})

	fire := a.fire("T", map[string]any{"order": "A-17"}, http.StatusAccepted)
	waitFor(t, "the dead-letter rule's action", func() bool { return len(a.activationsOf("catcher")) == 1 })
	got := echoed(t, &a.activationsOf("catcher")[0])
	event, _ := got["event"].(map[string]any)
	failure, _ := got["failure"].(map[string]any)
	if event["order"] != "A-17" || failure["cause"] != fire || failure["attempts"] != float64(2) || failure["status"] != "action developer error" {
		t.Fatalf("the dead-letter rule got %v", got)
	}
	attempts := a.activationsOf("crash")
	if len(attempts) != 2 {
		t.Fatalf("%d attempts recorded, want 2", len(attempts))
	}
	for _, act := range attempts {
		if act.Cause != fire || act.Response.Status != "action developer error" {
			t.Fatalf("attempt %s: cause %q, %s", act.ActivationID, act.Cause, act.Response.Status)
		}
	}
}
