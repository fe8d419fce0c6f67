package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wispio/wisp/internal/testenv"
)

// filteredRule makes a rule with a filter (a CEL string or a shorthand
// object) on trigger.
func (a *rawAPI) filteredRule(name, trigger, action string, filter any) {
	a.t.Helper()
	a.must(200, "PUT", "_/rules/"+name, map[string]any{"trigger": "/_/" + trigger, "action": "/_/" + action, "filter": filter})
}

// filterOutcomes waits for n trigger activations of trigger and returns,
// for each, a key of its payload (key(result)) and the rules that ran and
// those that filtered the event out, as "ran:R1,R2 filtered:R3".
func (a *rawAPI) filterOutcomes(trigger string, n int, key func(result map[string]any) string) map[string]string {
	a.t.Helper()
	waitFor(a.t, fmt.Sprintf("%d activations of %s", n, trigger), func() bool { return len(a.activationsOf(trigger)) >= n })
	out := map[string]string{}
	for _, act := range a.activationsOf(trigger) {
		var result map[string]any
		_ = json.Unmarshal(act.Response.Result, &result)
		var ran, filtered []string
		for _, r := range a.ruleResults(act.ActivationID) {
			rule := strings.TrimPrefix(r["rule"].(string), "fire/")
			switch {
			case r["filtered"] == true && r["rules"] != nil: // several filtered alike
				for _, g := range r["rules"].([]any) {
					filtered = append(filtered, strings.TrimPrefix(g.(string), "fire/"))
				}
			case r["filtered"] == true:
				filtered = append(filtered, rule)
			case r["success"] == true:
				ran = append(ran, rule)
			}
		}
		sort.Strings(ran)
		sort.Strings(filtered)
		out[key(result)] = "ran:" + strings.Join(ran, ",") + " filtered:" + strings.Join(filtered, ",")
	}
	return out
}

// TestMQTTFeedFilters: rules with filters on a trigger fed by the real
// Mosquitto: a CEL filter on the message's params and a shorthand on the
// event's subject (the topic) decide which actions a message runs; a
// message no rule passes runs nothing and its trigger activation says
// why.
func TestMQTTFeedFilters(t *testing.T) {
	broker := testenv.Mosquitto(t)
	_, a := startTriggerServer(t, allowLoopback)
	a.action("onreading", 1)
	a.must(200, "PUT", "_/triggers/readings", map[string]any{"annotations": []map[string]any{{"key": "feed", "value": "/whisk.system/mqtt/messages"}}})
	a.filteredRule("hot", "readings", "onreading", "params.payload.celsius > 30 && event.type == 'wisp.mqtt.message'")
	a.filteredRule("kitchen", "readings", "onreading", map[string]any{"suffix": map[string]any{"subject": "/kitchen"}})

	topic := fmt.Sprintf("wisp-test/%d/sensors", time.Now().UnixNano())
	if status, res := a.feedCall("mqtt/messages", "CREATE", "readings", map[string]any{"url": broker, "topic": topic + "/+", "qos": 1}); status != 200 || res["ok"] != true {
		t.Fatalf("CREATE = %d %v", status, res)
	}
	for _, m := range []struct {
		room    string
		celsius float64
	}{{"kitchen", 21.5}, {"hall", 35}, {"hall", 10}} {
		a.must(200, "POST", "whisk.system/actions/mqtt/publish?blocking=true", map[string]any{
			"url": broker, "topic": topic + "/" + m.room, "message": map[string]any{"celsius": m.celsius}, "qos": 1,
		})
	}
	got := a.filterOutcomes("readings", 3, func(r map[string]any) string {
		p, _ := r["payload"].(map[string]any)
		return fmt.Sprintf("%s %v", strings.TrimPrefix(fmt.Sprint(r["topic"]), topic+"/"), p["celsius"])
	})
	want := map[string]string{
		"kitchen 21.5": "ran:kitchen filtered:hot",
		"hall 35":      "ran:hot filtered:kitchen",
		"hall 10":      "ran: filtered:hot,kitchen",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("outcomes %v, want %v", got, want)
	}
	// The message no rule passed started no action: two ran in all.
	waitFor(t, "the two actions", func() bool { return len(a.activationsOf("onreading")) >= 2 })
	if n := len(a.activationsOf("onreading")); n != 2 {
		t.Fatalf("%d activations of onreading, want 2", n)
	}
	if status, res := a.feedCall("mqtt/messages", "DELETE", "readings", nil); status != 200 {
		t.Fatalf("DELETE = %d %v", status, res)
	}
}

// TestCouchDBFeedFilters: on pouchdb-server's changes feed, a shorthand
// filter on the event's subject (the doc id) and a CEL filter on the
// event type run the action for some documents only; the deletion of a
// document is told apart by its type.
func TestCouchDBFeedFilters(t *testing.T) {
	couch := testenv.CouchDB(t)
	db := fmt.Sprintf("wisp-filter-%d", time.Now().UnixNano())
	req, _ := http.NewRequest(http.MethodPut, couch+"/"+db, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode >= 300 {
		t.Fatalf("create database %s: %v %v", db, err, resp)
	}
	resp.Body.Close()

	_, a := startTriggerServer(t, allowLoopback)
	a.action("onchange", 1)
	a.must(200, "PUT", "_/triggers/changed", map[string]any{"annotations": []map[string]any{{"key": "feed", "value": "/whisk.system/couchdb/changes"}}})
	a.filteredRule("readings", "changed", "onchange", map[string]any{"all": []any{
		map[string]any{"prefix": map[string]any{"subject": "reading-"}},
		map[string]any{"exact": map[string]any{"type": "wisp.couchdb.change"}},
	}})
	a.filteredRule("deletions", "changed", "onchange", "event.type == 'wisp.couchdb.deleted'")
	if status, res := a.feedCall("couchdb/changes", "CREATE", "changed", map[string]any{"url": couch, "dbname": db}); status != 200 || res["ok"] != true {
		t.Fatalf("CREATE = %d %v", status, res)
	}
	put := func(id string) string {
		b, _ := json.Marshal(map[string]any{"v": 1})
		req, _ := http.NewRequest(http.MethodPut, couch+"/"+db+"/"+id, bytes.NewReader(b))
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode >= 300 {
			t.Fatalf("PUT %s: %v %v", id, err, resp)
		}
		defer resp.Body.Close()
		var r struct{ Rev string }
		_ = json.NewDecoder(resp.Body).Decode(&r)
		return r.Rev
	}
	put("reading-1")
	rev := put("note-1")
	req, _ = http.NewRequest(http.MethodDelete, couch+"/"+db+"/note-1?rev="+rev, nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode >= 300 {
		t.Fatalf("DELETE note-1: %v %v", err, resp)
	} else {
		resp.Body.Close()
	}
	got := a.filterOutcomes("changed", 3, func(r map[string]any) string {
		return fmt.Sprintf("%v deleted=%v", r["id"], r["deleted"] == true)
	})
	want := map[string]string{
		"reading-1 deleted=false": "ran:readings filtered:deletions",
		"note-1 deleted=false":    "ran: filtered:deletions,readings",
		"note-1 deleted=true":     "ran:deletions filtered:readings",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("outcomes %v, want %v", got, want)
	}
	if status, res := a.feedCall("couchdb/changes", "DELETE", "changed", nil); status != 200 {
		t.Fatalf("DELETE = %d %v", status, res)
	}
}
