package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/routing"
)

// TestArchiveAndReplay: a trigger with an archive keeps its fired events;
// a replay (of one rule, in a window) starts new activations whose cause
// is the original fire, annotated replayed: true.
func TestArchiveAndReplay(t *testing.T) {
	_, a := startTriggerServer(t, nil)
	a.action("hello", 1)
	a.action("other", 1)
	body := a.must(200, "PUT", "_/triggers/T", map[string]any{"archive": map[string]any{"days": 7}})
	var trig entity.Trigger
	if err := json.Unmarshal(body, &trig); err != nil || trig.Archive == nil || trig.Archive.Days != 7 {
		t.Fatalf("PUT trigger answered %s", body)
	}
	a.rule("R", "T", "hello")
	a.rule("R2", "T", "other")
	a.must(200, "PUT", "_/triggers/Plain", map[string]any{})
	a.rule("P", "Plain", "hello")
	since := time.Now().Add(-time.Minute).UTC().Format("2006-01-02T15:04Z")
	fires := map[string]bool{}
	for n := range 3 {
		id := a.fire("T", map[string]any{"n": n}, http.StatusAccepted)
		a.firedActions(id)
		fires[id] = true
	}
	a.firedActions(a.fire("Plain", map[string]any{}, http.StatusAccepted))

	var res routing.ReplayResult
	out := a.must(200, "POST", "_/triggers/T/replay", map[string]any{"since": since, "rule": "R"})
	if err := json.Unmarshal(out, &res); err != nil || res.Events != 3 || len(res.Activations) != 3 {
		t.Fatalf("replay answered %s", out)
	}
	for _, rep := range res.Activations {
		if !fires[rep.Cause] || rep.Rule != "fire/R" || rep.Error != "" {
			t.Fatalf("replayed %+v", rep)
		}
		act := a.activation(rep.ActivationID)
		if act.Cause != rep.Cause || act.Name != "hello" || !act.Annotations.IsTrue("replayed") {
			t.Fatalf("replayed activation %+v", act)
		}
		if orig := routing.RuleActivationID(rep.Cause, entity.FQN{Namespace: "fire", Name: "R"}); orig == act.ActivationID {
			t.Fatalf("the replay reused the original activation id %s", orig)
		}
	}
	// A window after the fires, and a trigger without an archive, replay nothing.
	out = a.must(200, "POST", "_/triggers/T/replay", map[string]any{"since": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	if err := json.Unmarshal(out, &res); err != nil || res.Events != 0 {
		t.Fatalf("replay of a later window answered %s", out)
	}
	out = a.must(200, "POST", "_/triggers/Plain/replay", map[string]any{"since": since})
	if err := json.Unmarshal(out, &res); err != nil || res.Events != 0 {
		t.Fatalf("replay of a trigger without archive answered %s", out)
	}
	for _, tt := range []struct {
		method, path string
		body         map[string]any
		status       int
		field        string
	}{
		{"PUT", "_/triggers/T?overwrite=true", map[string]any{"archive": map[string]any{"days": 365}}, 400, "archive.days"},
		{"PUT", "_/triggers/T?overwrite=true", map[string]any{"archive": map[string]any{"weeks": 1}}, 400, "archive"},
		{"POST", "_/triggers/T/replay", map[string]any{}, 400, "since"},
		{"POST", "_/triggers/T/replay", map[string]any{"since": "yesterday"}, 400, "since"},
		{"POST", "_/triggers/T/replay", map[string]any{"since": since, "rule": "P"}, 400, "rule"},
		{"POST", "_/triggers/Nope/replay", map[string]any{"since": since}, 404, ""},
	} {
		status, out := a.do(tt.method, tt.path, tt.body)
		if status != tt.status || !strings.Contains(string(out), tt.field) {
			t.Errorf("%s %s %v = %d %s, want %d naming %q", tt.method, tt.path, tt.body, status, out, tt.status, tt.field)
		}
	}
}

// TestReplayAppliesFilters: a replay decides the rules' filters again on
// each archived event, so a rule whose filter refused an event when it
// fired does not run it at the replay either.
func TestReplayAppliesFilters(t *testing.T) {
	_, a := startTriggerServer(t, nil)
	a.action("hello", 1)
	a.action("other", 1)
	a.must(200, "PUT", "_/triggers/T", map[string]any{"archive": map[string]any{"days": 1}})
	a.must(200, "PUT", "_/rules/Hot", map[string]any{"trigger": "/_/T", "action": "/_/hello", "filter": "params.n > 0"})
	a.rule("All", "T", "other")
	since := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	for n := range 3 {
		a.ruleResults(a.fire("T", map[string]any{"n": n}, http.StatusAccepted))
	}
	var res routing.ReplayResult
	waitFor(t, "3 archived events", func() bool {
		out := a.must(200, "POST", "_/triggers/T/replay", map[string]any{"since": since, "rule": "Hot"})
		return json.Unmarshal(out, &res) == nil && res.Events == 3
	})
	if len(res.Activations) != 2 {
		t.Fatalf("replay of the filtered rule started %d activations, want 2 (n=1, n=2): %+v", len(res.Activations), res.Activations)
	}
	for _, rep := range res.Activations {
		act := a.activation(rep.ActivationID)
		if n, _ := echoed(t, act)["n"].(float64); n < 1 {
			t.Fatalf("the replay ran the filtered rule on %s", act.Response.Result)
		}
	}
	out := a.must(200, "POST", "_/triggers/T/replay", map[string]any{"since": since, "rule": "All"})
	if err := json.Unmarshal(out, &res); err != nil || len(res.Activations) != 3 {
		t.Fatalf("replay of the unfiltered rule answered %s, want 3 activations", out)
	}
}

// TestReplayPagesFilteredOutAndDelete: the fires no filter passed are
// archived too, so a replay after the filter changed starts them; a replay
// goes limit events a call, "next" continuing; deleting the trigger
// deletes its archive, so a trigger made anew with its name replays
// nothing.
func TestReplayPagesFilteredOutAndDelete(t *testing.T) {
	_, a := startTriggerServer(t, nil)
	a.action("hello", 1)
	a.must(200, "PUT", "_/triggers/T", map[string]any{"archive": map[string]any{"days": 1}})
	a.must(200, "PUT", "_/rules/Hot", map[string]any{"trigger": "/_/T", "action": "/_/hello", "filter": "params.n > 10"})
	since := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	fires := map[string]bool{}
	for n := range 5 {
		id := a.fire("T", map[string]any{"n": n}, http.StatusAccepted)
		if rs := a.ruleResults(id); len(rs) != 1 || rs[0]["filtered"] != true {
			t.Fatalf("fire %d: %v, want it filtered out", n, rs)
		}
		fires[id] = true
	}
	if n := len(a.activationsOf("hello")); n != 0 {
		t.Fatalf("%d activations of hello, want none", n)
	}
	a.must(200, "PUT", "_/rules/Hot?overwrite=true", map[string]any{"trigger": "/_/T", "action": "/_/hello", "filter": "params.n >= 0"})

	replayed := map[string]bool{}
	body := map[string]any{"since": since, "limit": 2}
	for _, want := range []int{2, 2, 1} {
		var res routing.ReplayResult
		out := a.must(200, "POST", "_/triggers/T/replay", body)
		if err := json.Unmarshal(out, &res); err != nil || res.Events != want || len(res.Activations) != want || (res.Next == "") != (want < 2) {
			t.Fatalf("replay %v answered %s, want %d events", body, out, want)
		}
		for _, rep := range res.Activations {
			if !fires[rep.Cause] || replayed[rep.Cause] || rep.Error != "" {
				t.Fatalf("replayed %+v: not one of the fires, or again", rep)
			}
			replayed[rep.Cause] = true
		}
		body = map[string]any{"limit": 2, "continue": res.Next}
	}
	if len(replayed) != 5 {
		t.Fatalf("replayed %d fires, want 5", len(replayed))
	}

	for _, tt := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"since": since, "limit": 5000}, "limit"},
		{map[string]any{"continue": "yesterday"}, "continue"},
	} {
		if status, out := a.do("POST", "_/triggers/T/replay", tt.body); status != 400 || !strings.Contains(string(out), tt.field) {
			t.Errorf("replay %v = %d %s, want 400 naming %s", tt.body, status, out, tt.field)
		}
	}

	a.must(200, "DELETE", "_/triggers/T", nil)
	a.must(200, "PUT", "_/triggers/T", map[string]any{"archive": map[string]any{"days": 1}})
	var res routing.ReplayResult
	out := a.must(200, "POST", "_/triggers/T/replay", map[string]any{"since": since})
	if err := json.Unmarshal(out, &res); err != nil || res.Events != 0 {
		t.Fatalf("replay of the trigger made anew answered %s, want no events", out)
	}
}
