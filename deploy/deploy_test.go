package deploy_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/wispio/wisp/client"
	"github.com/wispio/wisp/deploy"
)

// feedJS is a feed action that appends each lifecycle call to the file its
// "record" parameter names, and refuses the event named by "failOn".
const feedJS = `
const fs = require('fs');
function main(p) {
  const skip = ['lifecycleEvent', 'triggerName', 'authKey', 'record', 'failOn'];
  const inputs = Object.keys(p).filter(k => !skip.includes(k)).sort().map(k => k + '=' + JSON.stringify(p[k]));
  if (p.failOn === p.lifecycleEvent) return { error: 'refused ' + p.lifecycleEvent };
  fs.appendFileSync(p.record, JSON.stringify({ event: p.lifecycleEvent, trigger: p.triggerName,
    authKey: p.authKey ? 'present' : 'missing', inputs: inputs.join(',') }) + '\n');
  return { ok: true };
}`

// feedCalls reads what the test feed recorded.
func feedCalls(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var c struct{ Event, Trigger, AuthKey, Inputs string }
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("feed record %q: %v", line, err)
		}
		out = append(out, strings.Join([]string{c.Event, c.Trigger, c.AuthKey, c.Inputs}, " "))
	}
	return out
}

const roundTripManifest = `
project:
  name: shop
  packages:
    shop:
      inputs:
        currency: EUR
      actions:
        price:
          function: price.js
          inputs:
            rate: 2
          limits:
            memorySize: 128
        label:
          function: label
          runtime: nodejs:default
      sequences:
        quote:
          actions: price, label, tools/echo
      dependencies:
        tools:
          location: /whisk.system/utils
      triggers:
        order:
          inputs:
            source: web
        tick:
          feed: feed
          inputs:
            cron: "*/5 * * * *"
      rules:
        quote-orders:
          trigger: order
          action: quote
    default:
      actions:
        feed:
          function: feed.js
          inputs:
            record: ${RECORD}
`

func writeShop(e *env) {
	e.write("price.js", `function main(p) { return { amount: p.qty * p.rate, currency: p.currency, source: p.source } }`)
	e.write("label/index.js", `exports.main = p => ({ label: p.amount + ' ' + p.currency + ' via ' + p.source })`)
	e.write("label/package.json", `{"main": "index.js"}`)
	e.write("feed.js", feedJS)
}

func TestRoundTrip(t *testing.T) {
	e := start(t)
	writeShop(e)
	record := filepath.Join(actionWritable(t), "feed.log")
	p := e.load(roundTripManifest, map[string]string{"RECORD": record})

	plan := e.deploy(p)
	if got, want := diff(plan), `project shop in namespace dep
+ package shop
+ package tools
+ action shop/price
+ action shop/label
+ action feed
+ sequence shop/quote
+ trigger order
+ trigger tick
+ rule quote-orders
plan: 9 to create, 0 to update, 0 to delete, 0 unchanged
`; got != want {
		t.Errorf("plan:\n%s\nwant:\n%s", got, want)
	}
	if got := e.invoke("shop/quote", map[string]any{"qty": 3, "source": "test"}); got["label"] != "6 EUR via test" {
		t.Errorf("quote = %v", got)
	}
	if got := e.fired("order", map[string]any{"qty": 5}); got["label"] != "10 EUR via web" {
		t.Errorf("fired quote = %v", got)
	}
	want := []string{`CREATE /dep/tick present cron="*/5 * * * *"`}
	if got := feedCalls(t, record); !reflect.DeepEqual(got, want) {
		t.Errorf("feed calls %q, want %q", got, want)
	}
	var tick struct{ Annotations client.KeyValues }
	if _, err := e.c.Get(context.Background(), client.Triggers, "tick", &tick); err != nil {
		t.Fatal(err)
	}
	if f := tick.Annotations.Get("feed"); f != "/dep/feed" {
		t.Errorf("trigger tick feed annotation = %v", f)
	}

	e.undeploy("shop")
	if left := e.names(); len(left) != 0 {
		t.Errorf("undeploy left %v", left)
	}
	want = append(want, `DELETE /dep/tick present `)
	if got := feedCalls(t, record); !reflect.DeepEqual(got, want) {
		t.Errorf("feed calls %q, want %q", got, want)
	}
}

func TestUpdateShowsWhatChanged(t *testing.T) {
	e := start(t)
	writeShop(e)
	record := filepath.Join(actionWritable(t), "feed.log")
	e.deploy(e.load(roundTripManifest, map[string]string{"RECORD": record}))

	e.write("price.js", `function main(p) { return { amount: p.qty * p.rate * 10, currency: p.currency, source: p.source } }`)
	changed := strings.NewReplacer("rate: 2", "rate: 3", `cron: "*/5 * * * *"`, `cron: "0 * * * *"`).Replace(roundTripManifest)
	plan := e.deploy(e.load(changed, map[string]string{"RECORD": record}))
	var lines []string
	for _, l := range strings.Split(diff(plan), "\n") {
		if strings.HasPrefix(l, "~") || strings.HasPrefix(l, "+") || strings.HasPrefix(l, "-") {
			lines = append(lines, l)
		}
	}
	if want := []string{"~ action shop/price (code, inputs)", "~ trigger tick (inputs)"}; !reflect.DeepEqual(lines, want) {
		t.Errorf("changes %q, want %q", lines, want)
	}
	if got := e.invoke("shop/quote", map[string]any{"qty": 1, "source": "x"}); got["label"] != "30 EUR via x" {
		t.Errorf("quote after update = %v", got)
	}
	want := []string{`CREATE /dep/tick present cron="*/5 * * * *"`, `DELETE /dep/tick present `, `CREATE /dep/tick present cron="0 * * * *"`}
	if got := feedCalls(t, record); !reflect.DeepEqual(got, want) {
		t.Errorf("feed calls %q, want %q", got, want)
	}
}

func TestOwnership(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	e.write("a.js", `function main() { return { from: "a" } }`)
	// Entities nobody manages: one with a name the manifest uses later, one
	// it never mentions.
	for _, name := range []string{"foreign", "bystander"} {
		if _, _, err := e.c.PutAction(ctx, &client.Action{Name: name, Exec: &client.Exec{Kind: "nodejs:default", Code: `function main() { return { from: "outside" } }`}}, false); err != nil {
			t.Fatal(err)
		}
	}
	full := `
project:
  name: own
  packages:
    default:
      actions:
        a:
          function: a.js
        b:
          function: a.js
      triggers:
        t: {}
      rules:
        r:
          trigger: t
          action: b
`
	e.deploy(e.load(full, nil))

	// b and the rule using it leave the manifest: both are deleted, rule first.
	without := `
project:
  name: own
  packages:
    default:
      actions:
        a:
          function: a.js
      triggers:
        t: {}
`
	plan := e.deploy(e.load(without, nil))
	var deleted []string
	for _, c := range plan.Changes {
		if c.Op == deploy.Delete {
			deleted = append(deleted, c.Collection+" "+c.Name)
		}
	}
	if want := []string{"rules r", "actions b"}; !reflect.DeepEqual(deleted, want) {
		t.Errorf("deleted %q, want %q", deleted, want)
	}
	names := e.names()
	for _, want := range []string{"actions a", "actions foreign", "actions bystander", "triggers t"} {
		if !slices.Contains(names, want) {
			t.Errorf("%s is gone; the namespace holds %v", want, names)
		}
	}
	if slices.Contains(names, "actions b") || slices.Contains(names, "rules r") {
		t.Errorf("b or r survived: %v", names)
	}

	// Declaring an entity that exists unmanaged fails, naming the manifest line.
	claim := strings.Replace(without, "      triggers:", "        foreign:\n          function: a.js\n      triggers:", 1)
	_, err := e.d.Plan(ctx, e.load(claim, nil), deploy.PlanOptions{})
	wantErr := `project.packages.default.actions.foreign: action "foreign" already exists and is not managed by a project; use --adopt to take it over (line 9)`
	if err == nil || err.Error() != wantErr {
		t.Fatalf("plan error %v, want %q", err, wantErr)
	}
	if got := e.invoke("foreign", nil); got["from"] != "outside" {
		t.Errorf("foreign changed: %v", got)
	}
	// Another project cannot take it either, and --adopt can.
	other := `
project:
  name: other
  packages:
    default:
      actions:
        a:
          function: a.js
`
	if _, err := e.d.Plan(ctx, e.load(other, nil), deploy.PlanOptions{}); err == nil || !strings.Contains(err.Error(), `belongs to project "own"`) {
		t.Errorf("plan of another project: %v", err)
	}
	plan = e.plan(e.load(claim, nil), deploy.PlanOptions{Adopt: true})
	if _, err := e.d.Apply(ctx, plan); err != nil {
		t.Fatal(err)
	}
	if got := e.invoke("foreign", nil); got["from"] != "a" {
		t.Errorf("adopted foreign = %v", got)
	}

	e.undeploy("own")
	if got := e.names(); !reflect.DeepEqual(got, []string{"actions bystander"}) {
		t.Errorf("after undeploy the namespace holds %v, want only the bystander", got)
	}
}

func TestRollbackOnFailingEntity(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	e.write("ok.js", `function main() { return { v: 1 } }`)
	e.deploy(e.load(`
project:
  name: rb
  packages:
    rb:
      actions:
        kept:
          function: ok.js
`, nil))
	before := e.names()

	// The server refuses concurrency 1000 (its limit is 500, which the API
	// does not publish, so the plan cannot know): the rule naming the action
	// is never reached and what this run created is deleted again.
	p := e.load(`
project:
  name: rb
  packages:
    rb:
      inputs:
        changed: yes
      actions:
        kept:
          function: ok.js
        fresh:
          function: ok.js
        broken:
          function: ok.js
          limits:
            concurrency: 1000
      triggers:
        t: {}
      rules:
        r:
          trigger: t
          action: broken
`, nil)
	plan := e.plan(p, deploy.PlanOptions{})
	_, err := e.d.Apply(ctx, plan)
	var ae *deploy.ApplyError
	if !errors.As(err, &ae) {
		t.Fatalf("apply error %v, want *ApplyError", err)
	}
	if ae.Failed.Name != "rb/broken" || len(ae.Stuck) != 0 {
		t.Errorf("failed %s, stuck %v", ae.Failed.Name, ae.Stuck)
	}
	var rolled, done []string
	for _, c := range ae.RolledBack {
		rolled = append(rolled, c.Name)
	}
	for _, c := range ae.Done {
		done = append(done, c.Name)
	}
	if !reflect.DeepEqual(rolled, []string{"rb/fresh"}) || !reflect.DeepEqual(done, []string{"rb"}) {
		t.Errorf("rolled back %q, still standing %q", rolled, done)
	}
	for _, want := range []string{"create action rb/broken: ", "limits.concurrency", "rolled back (created, then deleted again): create action rb/fresh", "still standing (applied, not undone): update package rb"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if after := e.names(); !reflect.DeepEqual(after, before) {
		t.Errorf("namespace after rollback %v, before %v", after, before)
	}
}

func TestFeedFailureRollsBack(t *testing.T) {
	e := start(t)
	e.write("feed.js", feedJS)
	record := filepath.Join(actionWritable(t), "feed.log")
	p := e.load(`
project:
  name: ff
  packages:
    default:
      actions:
        feed:
          function: feed.js
          inputs:
            record: $RECORD
            failOn: CREATE
      triggers:
        t:
          feed: feed
`, map[string]string{"RECORD": record})
	_, err := e.d.Apply(context.Background(), e.plan(p, deploy.PlanOptions{}))
	if err == nil || !strings.Contains(err.Error(), "refused CREATE") || !strings.Contains(err.Error(), "rolled back (created, then deleted again): create action feed") {
		t.Fatalf("apply error %v", err)
	}
	if left := e.names(); len(left) != 0 {
		t.Errorf("left %v", left)
	}
}

func TestPlanValidatesAgainstTheServer(t *testing.T) {
	e := start(t)
	e.write("a.js", `function main() { return {} }`)
	for _, tc := range []struct {
		name, manifest, want string
	}{
		{"unknown kind", `
packages:
  iot:
    actions:
      alert:
        function: a.js
        runtime: nodejs:99
`, `packages.iot.actions.alert.runtime: unknown kind "nodejs:99"; the server offers `},
		{"memory range", `
packages:
  p:
    actions:
      a:
        function: a.js
        limits:
          memorySize: 4096
`, `packages.p.actions.a.limits.memorySize: 4096 is outside the allowed range 128 to 512 MB (line 8)`},
		{"rule to a missing action", `
packages:
  p:
    triggers:
      t: {}
    rules:
      r:
        trigger: t
        action: nowhere
`, `packages.p.rules.r.action: action /dep/nowhere does not exist and the manifest does not declare it (line 9)`},
		{"missing feed", `
packages:
  p:
    triggers:
      t:
        feed: /whisk.system/utils/nope
`, `packages.p.triggers.t.feed: action /whisk.system/utils/nope does not exist and the manifest does not declare it (line 6)`},
		{"sequence cycle", `
packages:
  p:
    sequences:
      s1:
        actions: s2
      s2:
        actions: s1
`, `sequence "p/s1" contains itself`},
		{"route to an action that is not a web action", `
packages:
  p:
    actions:
      a:
        function: a.js
    apis:
      h:
        hello:
          world:
            a: {method: GET}
`, `packages.p.apis.h.hello.world.a: p/a is not a web action: give it web-export: true (routes call web actions only) (line 11)`},
		{"route to a missing action", `
apis:
  h:
    hello:
      world:
        nowhere: {method: GET}
`, `apis.h.hello.world.nowhere: action /dep/nowhere does not exist and the manifest does not declare it (line 6)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := e.load(tc.manifest, nil)
			p.Name = "v"
			_, err := e.d.Plan(context.Background(), p, deploy.PlanOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("plan error %v, want %q", err, tc.want)
			}
		})
	}
	if left := e.names(); len(left) != 0 {
		t.Errorf("validation changed the namespace: %v", left)
	}
}

func TestEnvironmentAndDeploymentFile(t *testing.T) {
	e := start(t)
	e.write("show.js", `function main(p) { return p }`)
	manifest := e.write("manifest.yaml", `
project:
  name: envs
  packages:
    envs:
      inputs:
        region: ${REGION}
      actions:
        show:
          function: show.js
          inputs:
            endpoint: https://$HOST/api
            retries:
              type: integer
              value: 1
`)
	deployment := e.write("prod.yaml", `
project:
  name: envs
  packages:
    envs:
      actions:
        show:
          inputs:
            retries: $RETRIES
            tier: prod
`)
	vars := lookup(map[string]string{"REGION": "eu-west", "HOST": "example.org", "RETRIES": "5"})
	p, err := deploy.Load(manifest, "", vars)
	if err != nil {
		t.Fatal(err)
	}
	e.deploy(p)
	got := e.invoke("envs/show", nil)
	want := map[string]any{"region": "eu-west", "endpoint": "https://example.org/api", "retries": 1.0}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("without deployment file: %v, want %v", got, want)
	}

	p, err = deploy.Load(manifest, deployment, vars)
	if err != nil {
		t.Fatal(err)
	}
	plan := e.deploy(p)
	if plan.Count(deploy.Update) != 1 || plan.Changes[1].Name != "envs/show" || !reflect.DeepEqual(plan.Changes[1].Parts, []string{"inputs"}) {
		t.Errorf("plan:\n%s", diff(plan))
	}
	got = e.invoke("envs/show", nil)
	want = map[string]any{"region": "eu-west", "endpoint": "https://example.org/api", "retries": 5.0, "tier": "prod"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("with deployment file: %v, want %v", got, want)
	}
	e.undeploy("envs")
}
