package feeds

import (
	"encoding/json"
	"testing"

	"github.com/wispio/wisp/entity"
)

// TestOutboxEventActivationID: an event keeps its fire's activation id
// when fired again (after a crash), and no two events share one.
func TestOutboxEventActivationID(t *testing.T) {
	base := outboxEvent{Trigger: "ns/t", Seq: 7, Payload: json.RawMessage(`{"a":1}`), Created: 1700000000000}
	id := base.activationID()
	if !entity.ValidActivationID(id) {
		t.Fatalf("%q is not an activation id", id)
	}
	again := base
	again.Cursor = "moved on" // the cursor is not the event
	if again.activationID() != id {
		t.Fatal("the same event got another activation id")
	}
	for name, change := range map[string]func(*outboxEvent){
		"trigger": func(e *outboxEvent) { e.Trigger = "ns/u" },
		"seq":     func(e *outboxEvent) { e.Seq = 8 },
		"created": func(e *outboxEvent) { e.Created++ },
		"payload": func(e *outboxEvent) { e.Payload = json.RawMessage(`{"a":2}`) },
	} {
		other := base
		change(&other)
		if other.activationID() == id {
			t.Errorf("an event with another %s has the same activation id", name)
		}
	}
}
