package deploy_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/wispio/wisp/client"
	"github.com/wispio/wisp/deploy"
)

const deliveryManifest = `
packages:
  orders:
    actions:
      charge:
        function: charge.js
    triggers:
      placed: {}
      failed: {}
    rules:
      chargeOnPlaced:
        trigger: placed
        action: charge
        retry:
          attempts: 3
          backoff: {initial: 250ms, max: 2s}
        deadLetter: failed
        sink: failed
`

// TestDeployRuleDelivery: a manifest rule's retry and deadLetter reach the
// server, a change of them is planned as an update of those parts, and
// removing them clears them.
func TestDeployRuleDelivery(t *testing.T) {
	e := start(t)
	e.write("charge.js", `function main(p) { return {ok: true} }`)
	e.deploy(e.load(deliveryManifest, nil))
	var rule client.Rule
	if _, err := e.c.Get(context.Background(), client.Rules, "chargeOnPlaced", &rule); err != nil {
		t.Fatal(err)
	}
	want := &client.RetryPolicy{Attempts: 3, Backoff: client.Backoff{Initial: 250, Max: 2000}}
	if !reflect.DeepEqual(rule.Retry, want) || rule.DeadLetter != "/dep/failed" || rule.Sink != "/dep/failed" {
		t.Fatalf("rule retry %+v deadLetter %q", rule.Retry, rule.DeadLetter)
	}

	changed := strings.Replace(deliveryManifest, "attempts: 3", "attempts: 5", 1)
	plan := e.deploy(e.load(changed, nil))
	if got := changeLines(plan); !reflect.DeepEqual(got, []string{"~ rule chargeOnPlaced (retry)"}) {
		t.Fatalf("plan %q", got)
	}

	cleared := strings.Split(deliveryManifest, "        retry:")[0]
	plan = e.deploy(e.load(cleared, nil))
	if got := changeLines(plan); !reflect.DeepEqual(got, []string{"~ rule chargeOnPlaced (deadLetter, retry, sink)"}) {
		t.Fatalf("plan %q", got)
	}
	rule = client.Rule{}
	if _, err := e.c.Get(context.Background(), client.Rules, "chargeOnPlaced", &rule); err != nil {
		t.Fatal(err)
	}
	if rule.Retry != nil || rule.DeadLetter != "" || rule.Sink != "" {
		t.Fatalf("after removing them: retry %+v deadLetter %q", rule.Retry, rule.DeadLetter)
	}
}

// changeLines are the plan's create, update and delete lines.
func changeLines(p *deploy.Plan) []string {
	var lines []string
	for _, l := range strings.Split(diff(p), "\n") {
		if strings.HasPrefix(l, "~") || strings.HasPrefix(l, "+") || strings.HasPrefix(l, "-") {
			lines = append(lines, l)
		}
	}
	return lines
}
