package routing

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/wispio/wisp/entity"
)

// EventActivationID is the activation id of the fire of event on trigger
// when the event has a source and an id (CloudEvents' identity of an
// event), else "". Every delivery of one event (a client retrying a POST,
// a feed's source redelivering, a restart refiring the outbox) gets the
// same id, so the fire and its rules' activations are recorded once and
// the queue and the invoker drop the repeats (see RuleActivationID).
func EventActivationID(trigger entity.FQN, event *entity.EventAttributes) string {
	if event == nil || event.Source == "" || event.ID == "" {
		return ""
	}
	h := sha256.New()
	for _, s := range []string{"cloudevent", trigger.Namespace, trigger.Name, event.Source, event.ID} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
