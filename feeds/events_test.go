package feeds

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/routing"
)

// TestFeedEventsCarryCloudEventsAttributes: a fire carries the attributes
// the connector stamped, the missing ones filled in; an event the
// connector named by id fires under the same activation id each time it
// is delivered (two outbox events, one fire), an unnamed one under its
// outbox event's id.
func TestFeedEventsCarryCloudEventsAttributes(t *testing.T) {
	h := newHarness(t, openStore(t))
	h.trigger("ns", "T")
	h.start()
	feed := h.create("ns", "/_/T")
	named := &entity.EventAttributes{ID: "doc1@1-a", Source: "/whisk.system/couchdb/db", Type: "wisp.couchdb.change", Subject: "doc1"}
	for i, attrs := range []*entity.EventAttributes{named, named, nil, nil} {
		ev := Event{Payload: json.RawMessage(fmt.Sprintf(`{"n":"%d"}`, i)), Attributes: attrs}
		if err := feed.sink.Deliver(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	h.waitFired("0", "1", "2", "3")
	h.firer.mu.Lock()
	reqs := append([]routing.FireRequest(nil), h.firer.reqs...)
	h.firer.mu.Unlock()

	T := entity.FQN{Namespace: "ns", Name: "T"}
	want := routing.EventActivationID(T, h.registrationScope(t), named)
	for i := range 2 {
		r := reqs[i]
		if r.ActivationID != want || r.Event == nil || r.Event.Subject != "doc1" || r.Event.ID != named.ID || r.Event.SpecVersion != "1.0" || r.Event.Time == "" {
			t.Fatalf("named fire %d: id %s, event %+v; want id %s", i, r.ActivationID, r.Event, want)
		}
	}
	a, b := reqs[2], reqs[3]
	if a.ActivationID == b.ActivationID || a.ActivationID == want {
		t.Fatalf("unnamed events share an activation id: %s, %s", a.ActivationID, b.ActivationID)
	}
	for _, r := range []routing.FireRequest{a, b} {
		if r.Event == nil || r.Event.ID != r.ActivationID || r.Event.Source != "/whisk.system/fake" || r.Event.Type != "wisp.fake.events" {
			t.Fatalf("unnamed fire: id %s, event %+v", r.ActivationID, r.Event)
		}
	}
}

// registrationScope is the scope the manager gives ns/T's events.
func (h *harness) registrationScope(t *testing.T) string {
	t.Helper()
	e := h.m.lookup("ns/T")
	if e == nil {
		t.Fatal("no registration of ns/T")
	}
	return e.scope()
}
