package invoker

import (
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/wispio/wisp/entity"
)

// msgUndecodable is the result of an invocation the invoker could not
// decode: a platform failure, not the caller's (the API checks what it
// accepts), so it is a whisk internal error.
const msgUndecodable = "Internal server error: the invoker could not decode the invocation."

// undecodableRecord is the activation record of an invocation message that
// does not decode, so that accepted work is never dropped silently. The
// message UUID is the activation id; the namespace, action and reply
// address come from the message's top-level fields when they can be read
// (a value nesting too deep elsewhere does not hide them). It returns nil
// when there is no activation id or namespace to record it under, and the
// controller to answer, if any.
func undecodableRecord(msg *message.Message) (act *entity.Activation, replyTo string) {
	if !entity.ValidActivationID(msg.UUID) {
		return nil, ""
	}
	f := salvage(msg.Payload)
	if f.Subject == "" || f.Action.Name == "" {
		return nil, ""
	}
	now := time.Now().UnixMilli()
	return &entity.Activation{
		ActivationID: msg.UUID,
		Namespace:    f.Subject,
		Name:         f.Action.Path(),
		Subject:      f.Subject,
		Cause:        f.Cause,
		Start:        now,
		End:          now,
		StatusCode:   entity.StatusWhiskError,
		Response:     entity.ErrorResponse(entity.StatusWhiskError, msgUndecodable),
		Logs:         []string{},
		Annotations:  entity.Params{}.Set("path", f.Action.Namespace+"/"+f.Action.Path()),
	}, f.ReplyTo
}

// salvaged are the fields of an invocation an error record needs.
type salvaged struct {
	Subject, ReplyTo, Cause string
	Action                  entity.FQN
}

// salvage reads the top-level fields subject, action, replyTo and cause of
// an invocation that does not decode as a whole.
func salvage(payload []byte) salvaged {
	var f salvaged
	entity.SalvageFields(payload, map[string]any{"subject": &f.Subject, "action": &f.Action, "replyTo": &f.ReplyTo, "cause": &f.Cause})
	return f
}
