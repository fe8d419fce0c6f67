package invoker

import (
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/routing"
)

// ackAfterOutcome acks msg, the invocation m whose record act is written.
// An attempt of a rule with a delivery policy (m.Delivery) first has its
// outcome queued for the controllers (routing.PublishOutcome); if that
// fails the invocation is nacked: its redelivery finds the record
// (alreadyRan) and queues the outcome again without running the action.
func (inv *Invoker) ackAfterOutcome(msg *message.Message, m *routing.Invocation, act *entity.Activation) {
	if m.Delivery != nil {
		if err := routing.PublishOutcome(inv.pub, m, act); err != nil {
			inv.log.Error("queue a rule activation's outcome; the invocation is left for a redelivery", "activationId", act.ActivationID, "err", err)
			msg.Nack()
			return
		}
	}
	msg.Ack()
}
