package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/internal/testenv"
)

// crashCode exits the action's process: an action developer error.
const crashCode = `function main(p) { process.exit(1) }`

// deadLetters waits for n activations of the dead-letter trigger dl and
// returns their payloads.
func (a *rawAPI) deadLetters(dl string, n int) []map[string]any {
	a.t.Helper()
	var acts []entity.Activation
	waitFor(a.t, "dead letters on "+dl, func() bool {
		acts = a.activationsOf(dl)
		return len(acts) >= n
	})
	out := make([]map[string]any, len(acts))
	for i, act := range acts {
		if err := json.Unmarshal(act.Response.Result, &out[i]); err != nil {
			a.t.Fatalf("dead letter %s: %v", act.Response.Result, err)
		}
	}
	return out
}

// TestRetriesThenDeadLetter fires a trigger whose rule's action crashes:
// it is attempted three times (each a record caused by the fire), then
// the dead-letter trigger fires with the event and the failure, and the
// dead-letter trigger's own rule runs.
func TestRetriesThenDeadLetter(t *testing.T) {
	_, a := startTriggerServer(t, nil)
	a.must(200, "PUT", "_/actions/crash", map[string]any{"exec": map[string]any{"kind": "nodejs:20", "code": crashCode}})
	a.action("catcher", 1)
	a.must(200, "PUT", "_/triggers/T", map[string]any{})
	a.must(200, "PUT", "_/triggers/DL", map[string]any{})
	a.rule("catch", "DL", "catcher")
	body := a.must(200, "PUT", "_/rules/R", map[string]any{
		"trigger": "/_/T", "action": "/_/crash",
		"retry":      map[string]any{"attempts": 3, "backoff": map[string]any{"initial": 5, "max": "20ms"}},
		"deadLetter": "DL",
	})
	var rule entity.Rule
	if err := json.Unmarshal(body, &rule); err != nil || rule.Retry == nil || rule.Retry.Attempts != 3 || rule.Retry.Backoff != (entity.BackoffPolicy{Initial: 5, Max: 20}) || rule.DeadLetter != "/fire/DL" {
		t.Fatalf("PUT rule answered %s", body)
	}
	_ = json.Unmarshal(a.must(200, "GET", "_/rules/R", nil), &rule)
	if rule.Retry == nil || rule.DeadLetter != "/fire/DL" || rule.Status != "active" {
		t.Fatalf("GET rule = %+v", rule)
	}

	fire := a.fire("T", map[string]any{"temp": 31}, http.StatusAccepted)
	letters := a.deadLetters("DL", 1)
	if len(letters) != 1 {
		t.Fatalf("%d dead letters", len(letters))
	}
	event, _ := letters[0]["event"].(map[string]any)
	failure, _ := letters[0]["failure"].(map[string]any)
	if event["temp"] != float64(31) {
		t.Fatalf("dead letter event = %v", letters[0])
	}
	if failure["attempts"] != float64(3) || failure["status"] != "action developer error" || failure["cause"] != fire ||
		failure["rule"] != "/fire/R" || !strings.Contains(failure["error"].(string), "exited unexpectedly") {
		t.Fatalf("dead letter failure = %v", failure)
	}
	ids, _ := failure["activationIds"].([]any)
	if len(ids) != 3 || ids[2] != failure["activationId"] {
		t.Fatalf("failed attempts = %v", failure["activationIds"])
	}
	for _, id := range ids {
		act := a.activation(id.(string))
		if act.Cause != fire || act.Response.StatusCode != entity.StatusDeveloperError {
			t.Fatalf("attempt %s: cause %q status %d", id, act.Cause, act.Response.StatusCode)
		}
	}
	if n := len(a.activationsOf("crash")); n != 3 {
		t.Fatalf("%d attempts recorded, want 3", n)
	}
	// The dead-letter trigger's rule ran with the letter.
	waitFor(t, "the dead-letter rule's action", func() bool { return len(a.activationsOf("catcher")) == 1 })
	got := echoed(t, &a.activationsOf("catcher")[0])
	if f, _ := got["failure"].(map[string]any); f["activationId"] != failure["activationId"] {
		t.Fatalf("catcher got %v", got)
	}
}

// TestRetryOnApplicationError: with onApplicationError, an action
// answering {error} is attempted again, and the dead letter carries the
// last error.
func TestRetryOnApplicationError(t *testing.T) {
	_, a := startTriggerServer(t, nil)
	a.must(200, "PUT", "_/actions/refuse", map[string]any{"exec": map[string]any{"kind": "nodejs:20", "code": `function main(p) { return {error: "no " + p.n} }`}})
	a.action("catcher", 1)
	a.must(200, "PUT", "_/triggers/U", map[string]any{})
	a.must(200, "PUT", "_/triggers/DL", map[string]any{})
	a.rule("catch", "DL", "catcher")
	a.must(200, "PUT", "_/rules/asked", map[string]any{"trigger": "/_/U", "action": "/_/refuse",
		"retry": map[string]any{"attempts": 2, "backoff": map[string]any{"initial": 1}, "onApplicationError": true}, "deadLetter": "DL"})

	asked := a.fire("U", map[string]any{"n": 2}, http.StatusAccepted)
	letters := a.deadLetters("DL", 1)
	failure, _ := letters[0]["failure"].(map[string]any)
	if failure["cause"] != asked || failure["error"] != "no 2" || failure["attempts"] != float64(2) || failure["status"] != "application error" {
		t.Fatalf("dead letter = %v", letters[0])
	}
}

// TestRuleDeliveryValidation: bad retry and dead-letter fields are a 400
// with OpenWhisk's error body naming the field.
func TestRuleDeliveryValidation(t *testing.T) {
	_, a := startTriggerServer(t, nil)
	a.action("A", 1)
	a.must(200, "PUT", "_/triggers/T", map[string]any{})
	for _, tt := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"retry": map[string]any{"attempts": 100}}, "retry.attempts"},
		{map[string]any{"retry": map[string]any{"attempts": 2, "backoff": map[string]any{"max": "2h"}}}, "retry.backoff.max"},
		{map[string]any{"deadLetter": "missing"}, "deadLetter"},
		{map[string]any{"deadLetter": "/someone/DL"}, "deadLetter"},
	} {
		tt.body["trigger"], tt.body["action"] = "/_/T", "/_/A"
		status, out := a.do("PUT", "_/rules/R", tt.body)
		var e struct{ Error, Code string }
		if status != http.StatusBadRequest || json.Unmarshal(out, &e) != nil || !strings.Contains(e.Error, tt.field) || e.Code == "" {
			t.Errorf("PUT %v = %d %s, want 400 naming %s", tt.body, status, out, tt.field)
		}
	}
}

// TestDeadLetterOnNATS runs the retries and the dead letter on the NATS
// bus (the WISP_DELIVERIES stream), where the consumer waits for a retry
// that is not due yet.
func TestDeadLetterOnNATS(t *testing.T) {
	natsURL := testenv.NATS(t)
	srv, a := startTriggerServer(t, func(c *Config) {
		c.Cluster.BusURL = natsURL
		c.Cluster.BusPrefix = fmt.Sprintf("deliveries%d", time.Now().UnixNano())
		c.Cluster.ID = "n1"
	})
	waitFor(t, "the invoker's first ping", func() bool { return slices.Contains(srv.Invokers(), "n1") })
	a.must(200, "PUT", "_/actions/crash", map[string]any{"exec": map[string]any{"kind": "nodejs:20", "code": crashCode}})
	a.action("catcher", 1)
	a.must(200, "PUT", "_/triggers/T", map[string]any{})
	a.must(200, "PUT", "_/triggers/DL", map[string]any{})
	a.rule("catch", "DL", "catcher")
	a.must(200, "PUT", "_/rules/R", map[string]any{"trigger": "/_/T", "action": "/_/crash", "deadLetter": "DL",
		"retry": map[string]any{"attempts": 2, "backoff": map[string]any{"initial": "200ms"}}})
	fire := a.fire("T", map[string]any{"n": 1}, http.StatusAccepted)
	letters := a.deadLetters("DL", 1)
	failure, _ := letters[0]["failure"].(map[string]any)
	if failure["cause"] != fire || failure["attempts"] != float64(2) {
		t.Fatalf("dead letter = %v", letters[0])
	}
	if n := len(a.activationsOf("crash")); n != 2 {
		t.Fatalf("%d attempts recorded, want 2", n)
	}
}
