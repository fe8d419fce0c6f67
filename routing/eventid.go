package routing

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/wispio/wisp/entity"
)

// EventActivationID is the activation id of the fire of event on trigger
// when the event has a source and an id (CloudEvents' identity of an
// event), else "". scope narrows the identity further ("" for events
// posted to the API, whose producers keep source+id unique; a feed
// registration's creation time for feed events, so that a source that
// starts its ids again, a database made anew, cannot reach the records of
// a past registration). Every delivery of one event (a client retrying a POST,
// a feed's source redelivering, a restart refiring the outbox) gets the
// same id, so the fire and its rules' activations are recorded once and
// the queue and the invoker drop the repeats (see RuleActivationID).
func EventActivationID(trigger entity.FQN, scope string, event *entity.EventAttributes) string {
	if event == nil || event.Source == "" || event.ID == "" {
		return ""
	}
	h := sha256.New()
	for _, s := range []string{"cloudevent", trigger.Namespace, trigger.Name, scope, event.Source, event.ID} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
