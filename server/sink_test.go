package server

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/wispio/wisp/routing"
)

// ceReceiver runs an sdk-go CloudEvents receiver on loopback and returns
// its URL and the events it gets.
func ceReceiver(t *testing.T) (string, <-chan cloudevents.Event) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p, err := cehttp.New(cehttp.WithListener(l))
	if err != nil {
		t.Fatal(err)
	}
	c, err := cloudevents.NewClient(p)
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan cloudevents.Event, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.StartReceiver(ctx, func(e cloudevents.Event) { events <- e })
	}()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + l.Addr().String() + "/events", events
}

func receive(t *testing.T, events <-chan cloudevents.Event) cloudevents.Event {
	t.Helper()
	select {
	case e := <-events:
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no CloudEvent at the sink")
	}
	return cloudevents.Event{}
}

// TestSinkCloudEventsOut: a rule with an HTTP sink delivers its action's
// result to an sdk-go receiver as a CloudEvent naming the activation,
// the rule, the action and the fire.
func TestSinkCloudEventsOut(t *testing.T) {
	_, a := startTriggerServer(t, allowLoopback)
	url, events := ceReceiver(t)
	a.action("hello", 1)
	a.must(200, "PUT", "_/triggers/T", map[string]any{})
	body := a.must(200, "PUT", "_/rules/R", map[string]any{"trigger": "/_/T", "action": "/_/hello", "sink": url})
	if !strings.Contains(string(body), `"sink":"`+url+`"`) {
		t.Fatalf("PUT rule answered %s", body)
	}
	fire := a.fire("T", map[string]any{"temp": 31}, http.StatusAccepted)
	act := a.firedActions(fire)[0]
	e := receive(t, events)
	if e.ID() != act.ActivationID || e.Type() != routing.ResultEventType || e.Source() != "/api/v1/namespaces/fire/rules/R" ||
		e.Subject() != "/fire/hello" || e.Extensions()["wispcause"] != fire || e.DataContentType() != cloudevents.ApplicationJSON {
		t.Fatalf("event = %s", e)
	}
	var data struct{ Echo map[string]any }
	if err := json.Unmarshal(e.Data(), &data); err != nil || data.Echo["temp"] != float64(31) {
		t.Fatalf("event data %s", e.Data())
	}
}

// TestSinkTrigger: a rule whose sink is a trigger fires it with the
// result, whose own rule then runs.
func TestSinkTrigger(t *testing.T) {
	_, a := startTriggerServer(t, nil)
	a.action("hello", 1)
	a.action("next", 1)
	a.must(200, "PUT", "_/triggers/T", map[string]any{})
	a.must(200, "PUT", "_/triggers/Next", map[string]any{})
	// The sink's fire carries the result event's attributes to filters.
	a.must(200, "PUT", "_/rules/onNext", map[string]any{"trigger": "/_/Next", "action": "/_/next",
		"filter": "event.type == 'io.wisp.activation.result' && event.source.endsWith('/rules/R') && event.wisptrigger.endsWith('/T')"})
	a.must(200, "PUT", "_/rules/R", map[string]any{"trigger": "/_/T", "action": "/_/hello", "sink": "Next"})
	a.fire("T", map[string]any{"n": 7}, http.StatusAccepted)
	waitFor(t, "the sink trigger's rule", func() bool { return len(a.activationsOf("next")) == 1 })
	got := echoed(t, &a.activationsOf("next")[0])
	if echo, _ := got["echo"].(map[string]any); echo["n"] != float64(7) {
		t.Fatalf("the sink trigger's action got %v", got)
	}
	// A sink in another namespace, or a missing trigger, is refused.
	for _, sink := range []string{"/other/Next", "Missing"} {
		if status, out := a.do("PUT", "_/rules/R2", map[string]any{"trigger": "/_/T", "action": "/_/hello", "sink": sink}); status != http.StatusBadRequest || !strings.Contains(string(out), "sink") {
			t.Errorf("sink %s: %d %s", sink, status, out)
		}
	}
}

// TestSinkEgressDenied: an HTTP sink goes through the egress policy; one
// on loopback (denied by default) fails each attempt, then the dead
// letter says why.
func TestSinkEgressDenied(t *testing.T) {
	_, a := startTriggerServer(t, nil)
	url, _ := ceReceiver(t)
	a.action("hello", 1)
	a.action("catcher", 1)
	a.must(200, "PUT", "_/triggers/T", map[string]any{})
	a.must(200, "PUT", "_/triggers/DL", map[string]any{})
	a.rule("catch", "DL", "catcher")
	a.must(200, "PUT", "_/rules/R", map[string]any{"trigger": "/_/T", "action": "/_/hello", "sink": url, "deadLetter": "DL",
		"retry": map[string]any{"attempts": 2, "backoff": map[string]any{"initial": 1}}})
	fire := a.fire("T", map[string]any{}, http.StatusAccepted)
	letters := a.deadLetters("DL", 1)
	failure, _ := letters[0]["failure"].(map[string]any)
	if failure["status"] != "sink delivery failed" || failure["cause"] != fire || failure["attempts"] != float64(2) ||
		!strings.Contains(failure["error"].(string), "denied by policy") {
		t.Fatalf("dead letter = %v", letters[0])
	}
}
