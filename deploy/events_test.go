package deploy_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wispio/wisp/client"
)

// eventsManifest has every event key of a manifest: a trigger archive, a
// CEL filter, a shorthand filter, retry, deadLetter and sink.
const eventsManifest = `
project:
  name: shop
  packages:
    shop:
      actions:
        ship:
          function: ship.js
      triggers:
        orders:
          archive: {days: 3}
        failed: {}
        results: {}
      rules:
        big:
          trigger: orders
          action: ship
          filter: event.type == 'com.example.order' && params.total > 100
          retry: {attempts: 2, backoff: {initial: 100ms, max: 1s}}
          deadLetter: failed
        eu:
          trigger: orders
          action: ship
          filter:
            all:
              - exact: {region: eu}
              - prefix: {subject: "orders/"}
          sink: results
`

// post sends a hand-built request to trigger orders, as curl would, and
// returns the fire's activation id.
func (e *env) post(headers map[string]string, body string) string {
	e.t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), "POST", "http://"+e.srv.Addr()+"/api/v1/namespaces/_/triggers/orders", strings.NewReader(body))
	for k, v := range headers {
		req.Header[k] = []string{v}
	}
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(e.auth)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var ans struct{ ActivationID string }
	if err := json.Unmarshal(raw, &ans); err != nil || resp.StatusCode != http.StatusAccepted || ans.ActivationID == "" {
		e.t.Fatalf("fire answered %d %s", resp.StatusCode, raw)
	}
	return ans.ActivationID
}

// TestEventsManifest: a manifest's rules with filters (CEL and shorthand),
// retry, deadLetter and sink, and a trigger with an archive, deploy; fires
// of CloudEvents from other tools and of plain JSON run the rules whose
// filters pass; the archive keeps every event, the filtered-out ones too,
// for a replay; a manifest without the archive turns it off.
func TestEventsManifest(t *testing.T) {
	e := start(t)
	e.write("ship.js", `function main(p) { return {shipped: p.total || 0} }`)
	since := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	e.deploy(e.load(eventsManifest, nil))

	var rule client.Rule
	if _, err := e.c.Get(context.Background(), client.Rules, "big", &rule); err != nil {
		t.Fatal(err)
	}
	if rule.Retry == nil || rule.Retry.Attempts != 2 || rule.DeadLetter != "/dep/failed" || !strings.Contains(string(rule.Filter), "com.example.order") {
		t.Fatalf("rule big = %+v", rule)
	}
	var trig client.Trigger
	if _, err := e.c.Get(context.Background(), client.Triggers, "orders", &trig); err != nil || trig.Archive == nil || trig.Archive.Days != 3 {
		t.Fatalf("trigger orders = %+v, %v; want a 3-day archive", trig, err)
	}

	structured := map[string]string{"content-type": "application/cloudevents+json; charset=utf-8"}
	for _, tc := range []struct {
		name    string
		headers map[string]string
		body    string
		ran     []string
	}{
		{"binary order in the EU", map[string]string{"ce-specversion": "1.0", "ce-id": "o1", "ce-source": "urn:shop", "ce-type": "com.example.order",
			"ce-subject": "orders/1", "ce-region": "eu", "content-type": "application/json"}, `{"total": 250}`, []string{"big", "eu"}},
		{"structured small order", structured,
			`{"specversion":"1.0","id":"o2","source":"urn:shop","type":"com.example.order","subject":"orders/2","region":"us","data":{"total":50}}`, nil},
		{"structured refund in the EU", structured,
			`{"specversion":"1.0","id":"o3","source":"urn:shop","type":"com.example.refund","subject":"orders/3","region":"eu","data":{"total":500}}`, []string{"eu"}},
		{"plain JSON", map[string]string{"content-type": "application/json"}, `{"total": 500}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			act := e.activation(e.post(tc.headers, tc.body))
			var ran []string
			for _, l := range act.Logs {
				var r struct {
					Rule              string
					Success, Filtered bool
				}
				if err := json.Unmarshal([]byte(l), &r); err != nil {
					t.Fatal(err)
				}
				if r.Success && !r.Filtered {
					ran = append(ran, strings.TrimPrefix(r.Rule, "dep/"))
				}
			}
			slices.Sort(ran)
			if !slices.Equal(ran, tc.ran) {
				t.Fatalf("rules %v ran, want %v; logs %s", ran, tc.ran, strings.Join(act.Logs, "\n"))
			}
		})
	}

	// The archive holds the four events; a replay to big starts it for
	// the one its filter passes.
	var res *client.ReplayResult
	e.waitFor("4 archived events", func() bool {
		var err error
		res, _, err = e.c.ReplayTrigger(context.Background(), "orders", client.Replay{Since: since, Rule: "big"})
		if err != nil {
			t.Fatal(err)
		}
		return res.Events == 4
	})
	if len(res.Activations) != 1 || res.Activations[0].Error != "" {
		t.Fatalf("replay to big: %+v, want one activation", res)
	}

	plan := e.deploy(e.load(strings.Replace(eventsManifest, "          archive: {days: 3}\n", "", 1), nil))
	if got := changeLines(plan); !slices.Equal(got, []string{"~ trigger orders (archive)"}) {
		t.Fatalf("plan %q", got)
	}
	trig = client.Trigger{}
	if _, err := e.c.Get(context.Background(), client.Triggers, "orders", &trig); err != nil || trig.Archive != nil {
		t.Fatalf("trigger orders after the archive was dropped = %+v, %v", trig, err)
	}
}
