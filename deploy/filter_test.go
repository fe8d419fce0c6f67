package deploy_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/wispio/wisp/client"
	"github.com/wispio/wisp/deploy"
)

const filterManifest = `
project:
  name: sensors
  packages:
    sensors:
      actions:
        alert:
          function: alert.js
      triggers:
        reading: {}
      rules:
        hot:
          trigger: reading
          action: alert
          filter: params.temp > 30
        kitchen:
          trigger: reading
          action: alert
          filter:
            exact:
              params.room: kitchen
`

func (e *env) ruleFilter(name string) string {
	e.t.Helper()
	var r client.Rule
	if _, err := e.c.Get(context.Background(), client.Rules, name, &r); err != nil {
		e.t.Fatal(err)
	}
	return string(r.Filter)
}

// TestRuleFilterInAManifest: rules: R: {trigger, action, filter} deploys
// the filter (a CEL string or a shorthand mapping), the plan shows a
// changed or dropped filter, and a filtered fire runs only the rule that
// passes.
func TestRuleFilterInAManifest(t *testing.T) {
	e := start(t)
	e.write("alert.js", `function main(p) { return { alert: p.room + " " + p.temp } }`)
	e.deploy(e.load(filterManifest, nil))
	if got := e.ruleFilter("hot"); got != `"params.temp \u003e 30"` && got != `"params.temp > 30"` {
		t.Fatalf("hot's filter = %s", got)
	}
	if got := e.ruleFilter("kitchen"); got != `{"exact":{"params.room":"kitchen"}}` {
		t.Fatalf("kitchen's filter = %s", got)
	}
	id, _, err := e.c.FireTrigger(context.Background(), "reading", map[string]any{"temp": 35, "room": "hall"})
	if err != nil {
		t.Fatal(err)
	}
	ran := map[string]bool{}
	for _, l := range e.activation(id).Logs {
		var r struct {
			Rule     string
			Success  bool
			Filtered bool
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		ran[r.Rule] = r.Success && !r.Filtered
	}
	if !ran["dep/hot"] || ran["dep/kitchen"] || len(ran) != 2 {
		t.Fatalf("rules that ran: %v; want hot only", ran)
	}

	changed := strings.NewReplacer("params.temp > 30", "params.temp > 40", "          filter:\n            exact:\n              params.room: kitchen\n", "").Replace(filterManifest)
	plan := e.deploy(e.load(changed, nil))
	var lines []string
	for _, l := range strings.Split(diff(plan), "\n") {
		if strings.HasPrefix(l, "~") {
			lines = append(lines, l)
		}
	}
	if got := strings.Join(lines, "; "); got != "~ rule hot (filter); ~ rule kitchen (filter)" {
		t.Fatalf("changes %q", got)
	}
	if got := e.ruleFilter("kitchen"); got != "" {
		t.Fatalf("kitchen's filter after it was dropped = %s", got)
	}
}

// TestRuleFilterErrorsInAManifest: a bad filter is a manifest error at its
// path and line, with the compiler's position and reason.
func TestRuleFilterErrorsInAManifest(t *testing.T) {
	for _, tc := range []struct{ name, filter, want, line string }{
		{"syntax", "filter: params.temp >", "packages.p.rules.r.filter: line 1, column 14: Syntax error", "(line 9)"},
		{"shorthand", "filter:\n          exakt: {type: x}", `packages.p.rules.r.filter: exakt: unknown operator "exakt"`, "(line 10)"},
		{"list", "filter: [1]", "packages.p.rules.r.filter: must be a CEL expression (a string) or a shorthand mapping", "(line 9)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := "packages:\n  p:\n    triggers:\n      t: {}\n    rules:\n      r:\n        trigger: t\n        action: /whisk.system/utils/echo\n        " + tc.filter + "\n"
			_, err := deploy.Parse([]byte(m), deploy.Options{Name: "x", Env: func(string) (string, bool) { return "", false }})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.line) {
				t.Fatalf("Parse error = %v; want %q %s", err, tc.want, tc.line)
			}
		})
	}
}
