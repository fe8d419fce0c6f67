package invoker

import (
	"bytes"
	"encoding/json"
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
// an invocation, stepping over the other values token by token (no depth
// limit applies to tokens), and stops at the first malformed token.
func salvage(payload []byte) salvaged {
	var f salvaged
	dec := json.NewDecoder(bytes.NewReader(payload))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return f
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return f
		}
		var dst any
		switch tok {
		case "subject":
			dst = &f.Subject
		case "action":
			dst = &f.Action
		case "replyTo":
			dst = &f.ReplyTo
		case "cause":
			dst = &f.Cause
		}
		if dst != nil {
			if dec.Decode(dst) != nil {
				return f
			}
			continue
		}
		if !skipValue(dec) {
			return f
		}
	}
	return f
}

// skipValue consumes one value of dec; false when it is malformed.
func skipValue(dec *json.Decoder) bool {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return true
		}
	}
}
