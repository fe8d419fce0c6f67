package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/wispio/wisp/entity"
)

// rawAPI drives the REST API with plain HTTP as one namespace.
type rawAPI struct {
	t    testing.TB
	base string
	auth entity.Credentials
}

// startTriggerServer starts a Wisp and returns raw API access as the
// namespace "fire" (created in the store).
func startTriggerServer(t testing.TB, tweak func(*Config)) (*Server, *rawAPI) {
	t.Helper()
	srv, _ := startServer(t, tweak)
	creds := entity.NewCredentials()
	if err := srv.Store().CreateSubject(context.Background(), entity.Subject{Namespace: "fire", UUID: creds.UUID, KeyHash: entity.HashKey(creds.Key)}); err != nil {
		t.Fatal(err)
	}
	return srv, &rawAPI{t: t, base: "http://" + srv.Addr() + "/api/v1/namespaces/", auth: creds}
}

// do sends a request with a JSON body (nil for none) and returns the status
// and body.
func (a *rawAPI) do(method, path string, body any) (int, []byte) {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	req.SetBasicAuth(a.auth.UUID, a.auth.Key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return resp.StatusCode, out
}

// must sends a request and fails the test unless it answers want.
func (a *rawAPI) must(want int, method, path string, body any) []byte {
	a.t.Helper()
	status, out := a.do(method, path, body)
	if status != want {
		a.t.Fatalf("%s %s = %d %s, want %d", method, path, status, out, want)
	}
	return out
}

func (a *rawAPI) action(name string, concurrency int) {
	a.t.Helper()
	a.must(200, "PUT", "_/actions/"+name, map[string]any{
		"exec":   map[string]any{"kind": "nodejs:20", "code": `function main(p) { return {echo: p} }`},
		"limits": map[string]any{"concurrency": concurrency},
	})
}

func (a *rawAPI) rule(name, trigger, action string) {
	a.t.Helper()
	a.must(200, "PUT", "_/rules/"+name, map[string]any{"name": name, "status": "", "trigger": "/_/" + trigger, "action": "/_/" + action})
}

// fire fires a trigger and returns the trigger activation id ("" on 204).
func (a *rawAPI) fire(trigger string, payload any, want int) string {
	a.t.Helper()
	out := a.must(want, "POST", "_/triggers/"+trigger, payload)
	if want != http.StatusAccepted {
		return ""
	}
	var r struct{ ActivationID string }
	if err := json.Unmarshal(out, &r); err != nil || !entity.ValidActivationID(r.ActivationID) {
		a.t.Fatalf("fire %s answered %s", trigger, out)
	}
	return r.ActivationID
}

// activation waits for an activation record to be stored.
func (a *rawAPI) activation(id string) *entity.Activation {
	a.t.Helper()
	var act entity.Activation
	waitFor(a.t, "activation "+id, func() bool {
		status, out := a.do("GET", "_/activations/"+id, nil)
		return status == 200 && json.Unmarshal(out, &act) == nil
	})
	return &act
}

// ruleResults waits for a trigger activation and decodes its log lines.
func (a *rawAPI) ruleResults(triggerActivation string) []map[string]any {
	a.t.Helper()
	act := a.activation(triggerActivation)
	out := make([]map[string]any, len(act.Logs))
	for i, l := range act.Logs {
		if err := json.Unmarshal([]byte(l), &out[i]); err != nil {
			a.t.Fatalf("log line %q: %v", l, err)
		}
	}
	return out
}

// firedActions waits for the action activations a fire started, checks
// that each names the fire as its cause, and returns them. Disabled rules'
// log lines are skipped.
func (a *rawAPI) firedActions(triggerActivation string) []*entity.Activation {
	a.t.Helper()
	var acts []*entity.Activation
	for _, r := range a.ruleResults(triggerActivation) {
		if msg, _ := r["error"].(string); strings.Contains(msg, "is inactive") {
			continue
		}
		if r["success"] != true {
			a.t.Fatalf("rule result %v", r)
		}
		act := a.activation(r["activationId"].(string))
		if act.Cause != triggerActivation {
			a.t.Fatalf("activation %s has cause %q, want %s", act.ActivationID, act.Cause, triggerActivation)
		}
		if want := strings.TrimPrefix(r["action"].(string), "fire/"); act.Name != want {
			a.t.Fatalf("activation of %s, but the rule result names %s", act.Name, want)
		}
		acts = append(acts, act)
	}
	return acts
}

func echoed(t testing.TB, act *entity.Activation) map[string]any {
	t.Helper()
	var r struct{ Echo map[string]any }
	if err := json.Unmarshal(act.Response.Result, &r); err != nil {
		t.Fatalf("result %s: %v", act.Response.Result, err)
	}
	return r.Echo
}

func TestFireStartsRuleAction(t *testing.T) {
	_, a := startTriggerServer(t, nil)
	a.action("hello", 1)
	a.must(200, "PUT", "_/triggers/T", map[string]any{"parameters": []map[string]any{{"key": "p", "value": "trigger"}, {"key": "q", "value": "trigger"}}})
	a.rule("R", "T", "hello")

	var rule entity.Rule
	_ = json.Unmarshal(a.must(200, "GET", "_/rules/R", nil), &rule)
	if rule.Status != "active" || rule.Trigger != (entity.EntityRef{Path: "fire", Name: "T"}) || rule.Action != (entity.EntityRef{Path: "fire", Name: "hello"}) {
		t.Fatalf("rule = %+v", rule)
	}
	var trig entity.Trigger
	_ = json.Unmarshal(a.must(200, "GET", "_/triggers/T", nil), &trig)
	if trig.Rules["fire/R"].Status != "active" {
		t.Fatalf("trigger rules = %+v", trig.Rules)
	}

	id := a.fire("T", map[string]any{"q": "payload"}, http.StatusAccepted)
	tact := a.activation(id)
	if tact.Name != "T" || tact.Namespace != "fire" || string(tact.Response.Result) != `{"q":"payload"}` || !tact.Response.Success {
		t.Fatalf("trigger activation = %+v %s", tact, tact.Response.Result)
	}
	acts := a.firedActions(id)
	if len(acts) != 1 {
		t.Fatalf("%d action activations", len(acts))
	}
	if got := echoed(t, acts[0]); got["p"] != "trigger" || got["q"] != "payload" {
		t.Fatalf("the action got %v; want the trigger's p under the payload's q", got)
	}
	var listed []entity.Activation
	_ = json.Unmarshal(a.must(200, "GET", "_/activations?name=T", nil), &listed)
	if len(listed) != 1 || listed[0].ActivationID != id {
		t.Fatalf("activations of T = %+v", listed)
	}
}

func TestFireFanOut(t *testing.T) {
	_, a := startTriggerServer(t, nil)
	a.action("fan", 50)
	a.must(200, "PUT", "_/triggers/T", map[string]any{})
	const rules = 50
	for i := range rules {
		a.rule(fmt.Sprintf("R%02d", i), "T", "fan")
	}
	id := a.fire("T", map[string]any{"n": 1}, http.StatusAccepted)
	acts := a.firedActions(id)
	seen := map[string]bool{}
	for _, act := range acts {
		seen[act.ActivationID] = true
		if echoed(t, act)["n"] != float64(1) {
			t.Fatalf("activation %s got %s", act.ActivationID, act.Response.Result)
		}
	}
	if len(seen) != rules {
		t.Fatalf("%d distinct action activations for %d rules", len(seen), rules)
	}
}

func TestFireManyToMany(t *testing.T) {
	_, a := startTriggerServer(t, nil)
	triggers, actions := []string{"T1", "T2", "T3"}, []string{"A1", "A2", "A3"}
	for _, act := range actions {
		a.action(act, 10)
	}
	for _, tr := range triggers {
		a.must(200, "PUT", "_/triggers/"+tr, nil)
	}
	// Ti starts Aj for j >= i: T1 → A1 A2 A3, T2 → A2 A3, T3 → A3, and
	// the rules of each trigger's other actions exist but are disabled.
	want := map[string][]string{}
	for i, tr := range triggers {
		for j, act := range actions {
			name := "R-" + tr + "-" + act
			a.rule(name, tr, act)
			if j < i {
				a.must(200, "POST", "_/rules/"+name, map[string]any{"status": "inactive", "trigger": nil, "action": nil})
			} else {
				want[tr] = append(want[tr], act)
			}
		}
	}
	for _, tr := range triggers {
		id := a.fire(tr, map[string]any{"from": tr}, http.StatusAccepted)
		var got []string
		for _, act := range a.firedActions(id) {
			if echoed(t, act)["from"] != tr {
				t.Fatalf("%s got the payload %s", act.Name, act.Response.Result)
			}
			got = append(got, act.Name)
		}
		sort.Strings(got)
		if fmt.Sprint(got) != fmt.Sprint(want[tr]) {
			t.Fatalf("fire of %s reached %v, want %v", tr, got, want[tr])
		}
		// As in OpenWhisk, the trigger activation logs the disabled rules too.
		results := a.ruleResults(id)
		if len(results) != len(actions) {
			t.Fatalf("%d log lines, want one per rule: %v", len(results), results)
		}
		for _, r := range results {
			if r["success"] != true && r["statusCode"] != float64(entity.StatusApplicationError) {
				t.Fatalf("rule result %v", r)
			}
		}
	}
}

func TestRuleDisableEnableDeleteTrigger(t *testing.T) {
	srv, a := startTriggerServer(t, nil)
	a.action("A", 1)
	a.must(200, "PUT", "_/triggers/T", nil)
	a.rule("R", "T", "A")
	a.firedActions(a.fire("T", map[string]any{"n": 1}, http.StatusAccepted))

	a.must(200, "POST", "_/rules/R", map[string]any{"status": "inactive", "trigger": nil, "action": nil})
	a.fire("T", map[string]any{"n": 2}, http.StatusNoContent)

	a.must(200, "POST", "_/rules/R", map[string]any{"status": "active"})
	acts := a.firedActions(a.fire("T", map[string]any{"n": 3}, http.StatusAccepted))
	if len(acts) != 1 || echoed(t, acts[0])["n"] != float64(3) {
		t.Fatalf("after enable: %+v", acts)
	}

	a.must(200, "DELETE", "_/triggers/T", nil)
	a.must(http.StatusNotFound, "POST", "_/triggers/T", map[string]any{"n": 4})
	if out := a.must(200, "GET", "_/rules/R", nil); !strings.Contains(string(out), `"status":"inactive"`) {
		t.Fatalf("rule of a deleted trigger = %s", out)
	}

	// Only the fires with an active rule ran A: n=1 and n=3.
	var listed []entity.Activation
	waitFor(t, "two activations of A", func() bool {
		_ = json.Unmarshal(a.must(200, "GET", "_/activations?name=A&docs=true", nil), &listed)
		return len(listed) >= 2
	})
	if err := srv.store.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(a.must(200, "GET", "_/activations?name=A&docs=true", nil), &listed)
	if len(listed) != 2 {
		t.Fatalf("%d activations of A, want 2", len(listed))
	}
}
