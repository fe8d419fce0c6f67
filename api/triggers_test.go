package api

import (
	"strings"
	"testing"
)

// TestTriggersAndRules walks the trigger and rule lifecycle through the
// API, step by step, including the refusals. The fixture has no invoker, so
// fires are accepted and their rules log "No invokers available.".
func TestTriggersAndRules(t *testing.T) {
	f := newFixture(t)
	const ns = "/api/v1/namespaces/_/"
	steps := []struct {
		name, method, path, body string
		status                   int
		want                     string // a substring of the answer
	}{
		{"create action", "PUT", ns + "actions/A", nodeAction, 200, `"name":"A"`},
		{"create action B", "PUT", ns + "actions/B", nodeAction, 200, `"name":"B"`},
		{"create trigger", "PUT", ns + "triggers/T", `{"parameters":[{"key":"k","value":1}]}`, 200, `"limits":{}`},
		{"create trigger again", "PUT", ns + "triggers/T", `{}`, 409, "resource already exists"},
		{"update trigger", "PUT", ns + "triggers/T?overwrite=true", `{"publish":false}`, 200, `"version":"0.0.2"`},
		{"trigger in a package", "PUT", ns + "triggers/p%2FT", `{}`, 400, "name"},
		{"bad feed", "PUT", ns + "triggers/F", `{"annotations":[{"key":"feed","value":7}]}`, 400, "annotations.feed"},
		{"fire without rules", "POST", ns + "triggers/T", `{}`, 204, ""},
		{"fire missing trigger", "POST", ns + "triggers/nope", `{}`, 404, "does not exist"},
		{"fire other namespace", "POST", "/api/v1/namespaces/them/triggers/T", `{}`, 403, "not authorized"},
		{"fire array body", "POST", ns + "triggers/T", `[1]`, 400, "body"},
		{"rule without action", "PUT", ns + "rules/R", `{"trigger":"/_/T"}`, 400, "action: rule requires a valid trigger and a valid action"},
		{"rule with missing trigger", "PUT", ns + "rules/R", `{"trigger":"/_/nope","action":"/_/A"}`, 400, "trigger: trigger /me/nope does not exist"},
		{"rule with missing action", "PUT", ns + "rules/R", `{"trigger":"/_/T","action":"/_/nope"}`, 400, "action: action /me/nope does not exist"},
		{"rule with malformed action", "PUT", ns + "rules/R", `{"trigger":"/_/T","action":"/_/a/b/c"}`, 400, "action"},
		{"rule with bad name", "PUT", ns + "rules/-R", `{"trigger":"/_/T","action":"/_/A"}`, 400, "name"},
		{"rule with another namespace's action", "PUT", ns + "rules/R", `{"trigger":"/_/T","action":"/them/A"}`, 403, "not authorized to access 'them/A'"},
		{"rule with another namespace's trigger", "PUT", ns + "rules/R", `{"trigger":"/them/T","action":"/_/A"}`, 403, "not authorized"},
		{"create rule (wsk form)", "PUT", ns + "rules/R?overwrite=false", `{"name":"R","status":"","trigger":"/_/T","action":"/_/A"}`, 200, `"status":"active"`},
		{"rule renders paths", "GET", ns + "rules/R", "", 200, `"trigger":{"path":"me","name":"T"},"action":{"path":"me","name":"A"}`},
		{"trigger lists the rule", "GET", ns + "triggers/T", "", 200, `"rules":{"me/R":{"action":{"path":"me","name":"A"},"status":"active"}}`},
		{"create rule again", "PUT", ns + "rules/R", `{"trigger":"/_/T","action":"/_/A"}`, 409, "resource already exists"},
		{"fire with an active rule", "POST", ns + "triggers/T", `{"x":1}`, 202, `"activationId"`},
		{"invalid status", "POST", ns + "rules/R", `{"status":"xxx"}`, 400, "status: 'xxx' is not a recognized rule state"},
		{"missing status", "POST", ns + "rules/R", `{}`, 400, "status"},
		{"disable (wsk form)", "POST", ns + "rules/R", `{"status":"inactive","trigger":null,"action":null}`, 200, `"status":"inactive"`},
		{"disable again", "POST", ns + "rules/R", `{"status":"inactive"}`, 200, `"status":"inactive"`},
		{"rule reads inactive", "GET", ns + "rules/R", "", 200, `"status":"inactive"`},
		{"fire with only inactive rules", "POST", ns + "triggers/T", `{}`, 204, ""},
		{"update keeps inactive, moves action", "PUT", ns + "rules/R?overwrite=true", `{"action":"/_/B"}`, 200, `"status":"inactive","trigger":{"path":"me","name":"T"},"action":{"path":"me","name":"B"}`},
		{"enable", "POST", ns + "rules/R", `{"status":"active"}`, 200, `"status":"active"`},
		{"fire again", "POST", ns + "triggers/T", `{}`, 202, `"activationId"`},
		{"list rules", "GET", ns + "rules", "", 200, `"name":"R"`},
		{"count rules", "GET", ns + "rules?count=true", "", 200, `{"rules":1}`},
		{"list triggers", "GET", ns + "triggers?limit=0", "", 200, `"name":"T"`},
		{"count triggers", "GET", ns + "triggers?count=true", "", 200, `{"triggers":1}`},
		{"delete trigger", "DELETE", ns + "triggers/T", "", 200, `"name":"T"`},
		{"fire deleted trigger", "POST", ns + "triggers/T", `{}`, 404, "does not exist"},
		{"rule of a deleted trigger reads inactive", "GET", ns + "rules/R", "", 200, `"status":"inactive"`},
		{"enable without trigger", "POST", ns + "rules/R", `{"status":"active"}`, 404, "does not exist"},
		{"recreated trigger has no rules", "PUT", ns + "triggers/T", `{}`, 200, `"name":"T"`},
		{"fire recreated trigger", "POST", ns + "triggers/T", `{}`, 204, ""},
		{"relink by update", "PUT", ns + "rules/R?overwrite=true", `{"trigger":"/_/T"}`, 200, `"status":"inactive"`},
		{"enable relinked", "POST", ns + "rules/R", `{"status":"active"}`, 200, `"status":"active"`},
		{"delete active rule", "DELETE", ns + "rules/R", "", 200, `"status":"inactive"`},
		{"rule gone", "GET", ns + "rules/R", "", 404, "does not exist"},
		{"trigger unlinked", "GET", ns + "triggers/T", "", 200, `"name":"T"`},
		{"fire after rule delete", "POST", ns + "triggers/T", `{}`, 204, ""},
		{"delete missing rule", "DELETE", ns + "rules/R", "", 404, "does not exist"},
	}
	for _, s := range steps {
		code, _, raw := f.do(t, s.method, s.path, s.body, &f.auth)
		if code != s.status || !strings.Contains(raw, s.want) {
			t.Fatalf("%s: %s %s = %d %s; want %d containing %s", s.name, s.method, s.path, code, raw, s.status, s.want)
		}
		if s.name == "trigger unlinked" && strings.Contains(raw, "me/R") {
			t.Fatalf("%s: the deleted rule is still linked: %s", s.name, raw)
		}
		if code >= 400 && !strings.Contains(raw, `"code":"`) {
			t.Fatalf("%s: error body %s lacks OpenWhisk's code", s.name, raw)
		}
	}
}

// TestFireLogsRuleResults checks the trigger activation's logs: one JSON
// line per rule, as OpenWhisk writes them, inactive rules included.
func TestFireLogsRuleResults(t *testing.T) {
	f := newFixture(t)
	const ns = "/api/v1/namespaces/_/"
	for _, s := range [][3]string{
		{"PUT", ns + "actions/A", nodeAction},
		{"PUT", ns + "triggers/T", `{}`},
		{"PUT", ns + "rules/R1", `{"trigger":"/_/T","action":"/_/A"}`},
		{"PUT", ns + "rules/R2", `{"trigger":"/_/T","action":"/_/A"}`},
		{"POST", ns + "rules/R2", `{"status":"inactive"}`},
	} {
		if code, _, raw := f.do(t, s[0], s[1], s[2], &f.auth); code != 200 {
			t.Fatalf("%s %s = %d %s", s[0], s[1], code, raw)
		}
	}
	code, body, raw := f.do(t, "POST", ns+"triggers/T", `{"x":1}`, &f.auth)
	if code != 202 {
		t.Fatalf("fire = %d %s", code, raw)
	}
	id, _ := body["activationId"].(string)
	code, act, raw := f.do(t, "GET", ns+"activations/"+id, "", &f.auth)
	if code != 200 {
		t.Fatalf("trigger activation = %d %s", code, raw)
	}
	logs, _ := act["logs"].([]any)
	want := []string{
		`{"statusCode":3,"success":false,"error":"No invokers available.","rule":"me/R1","action":"me/A"}`,
		`{"statusCode":1,"success":false,"error":"Rule 'me/R2' is inactive, action 'me/A' was not activated.","rule":"me/R2","action":"me/A"}`,
	}
	if len(logs) != 2 || logs[0] != want[0] || logs[1] != want[1] {
		t.Fatalf("logs = %q\nwant %q", logs, want)
	}
	if act["name"] != "T" || !strings.Contains(raw, `"result":{"x":1}`) {
		t.Fatalf("trigger activation = %s", raw)
	}
}
