package api

import (
	"strings"
	"testing"
)

// TestRuleFilterThroughTheAPI: a rule's filter is an extra field of the
// rule body, returned by GET and list; a bad one is a 400 whose error
// names the field, the position and the reason; wsk's update (no filter
// field) keeps it; null removes it; a fire no filter passes answers 202
// with the trigger activation that says why.
func TestRuleFilterThroughTheAPI(t *testing.T) {
	f := newFixture(t)
	const ns = "/api/v1/namespaces/_/"
	steps := []struct {
		name, method, path, body string
		status                   int
		want                     string // a substring of the answer
	}{
		{"action", "PUT", ns + "actions/A", nodeAction, 200, `"name":"A"`},
		{"trigger", "PUT", ns + "triggers/T", `{}`, 200, `"name":"T"`},
		{"syntax error", "PUT", ns + "rules/R", `{"trigger":"/_/T","action":"/_/A","filter":"params.temp >"}`, 400, `"error":"filter: line 1, column 14: Syntax error: mismatched input '\u003cEOF\u003e'`},
		{"undeclared", "PUT", ns + "rules/R", `{"trigger":"/_/T","action":"/_/A","filter":"temp > 30"}`, 400, `"error":"filter: line 1, column 1: undeclared reference to 'temp'`},
		{"bad shorthand", "PUT", ns + "rules/R", `{"trigger":"/_/T","action":"/_/A","filter":{"exact":{"params.a":[1]}}}`, 400, `filter.exact.params.a: must be a string, a number, a boolean or null`},
		{"not a filter", "PUT", ns + "rules/R", `{"trigger":"/_/T","action":"/_/A","filter":7}`, 400, `filter: must be a CEL expression`},
		{"refused rule was not made", "GET", ns + "rules/R", "", 404, "does not exist"},
		{"create", "PUT", ns + "rules/R", `{"trigger":"/_/T","action":"/_/A","filter":"params.temp > 30"}`, 200, `"filter":"params.temp \u003e 30"`},
		{"get", "GET", ns + "rules/R", "", 200, `"filter":"params.temp \u003e 30"`},
		{"list", "GET", ns + "rules", "", 200, `"filter":"params.temp \u003e 30"`},
		{"wsk update keeps it", "PUT", ns + "rules/R?overwrite=true", `{"name":"R","status":"","trigger":"/_/T","action":"/_/A"}`, 200, `"filter":"params.temp \u003e 30"`},
		{"filtered fire", "POST", ns + "triggers/T", `{"temp": 3}`, 202, `"activationId"`},
		{"shorthand", "PUT", ns + "rules/R?overwrite=true", `{"filter":{"exact":{"params.room":"kitchen"}}}`, 200, `"filter":{"exact":{"params.room":"kitchen"}}`},
		{"remove", "PUT", ns + "rules/R?overwrite=true", `{"filter":null}`, 200, `"status":"active"`},
	}
	for _, s := range steps {
		code, _, raw := f.do(t, s.method, s.path, s.body, &f.auth)
		if code != s.status || !strings.Contains(raw, s.want) {
			t.Fatalf("%s: %d %s; want %d with %s", s.name, code, raw, s.status, s.want)
		}
		if s.name == "filtered fire" {
			var id string
			if i := strings.Index(raw, `"activationId":"`); i >= 0 {
				id = raw[i+16 : i+48]
			}
			if logs := ruleLogs(t, f, id)["R"]; !strings.Contains(logs, "Rule 'me/R' filtered the event out: the filter did not match") {
				t.Fatalf("filtered fire logs %s", logs)
			}
		}
	}
	if _, _, raw := f.do(t, "GET", ns+"rules/R", "", &f.auth); strings.Contains(raw, `"filter"`) {
		t.Fatalf("after removal: %s", raw)
	}
}
