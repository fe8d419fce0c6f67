package routing

import (
	"encoding/json"

	"github.com/wispio/wisp/entity"
)

// Invocation asks an invoker to run one activation of an action. It is the
// body of a message on an invoker topic; the message UUID is ActivationID.
type Invocation struct {
	ActivationID  string `json:"activationId"`
	TransactionID string `json:"transactionId"`
	// Action names the action to run at a revision; the invoker loads it
	// from the store (cached by revision), so code never crosses the bus.
	Action   entity.FQN `json:"action"`
	Revision string     `json:"revision"`
	// Subject is the namespace on whose behalf the action runs.
	Subject string `json:"subject"`
	// Params are the merged parameters (package < action < invocation) as one
	// JSON object.
	Params json.RawMessage `json:"params"`
	// KeyExpires (epoch ms) is set only when the caller itself held an
	// activation key (an action calling the API) and the action is
	// annotated provide-api-key: the activation key the invoker mints for
	// this activation expires no later than the caller's. No key, the
	// namespace owner's or an activation's, crosses the bus.
	KeyExpires int64 `json:"keyExpires,omitempty"`
	// ReplyTo is the controller waiting for the completion; empty for a
	// non-blocking call.
	ReplyTo string `json:"replyTo,omitempty"`
	// Cause is the activation id of the trigger or sequence that caused it.
	Cause string `json:"cause,omitempty"`
	// CausedBy is "sequence" for the components of a sequence or conductor
	// action; the invoker records it as the causedBy annotation.
	CausedBy string `json:"causedBy,omitempty"`
	// Accepted is when the controller accepted the call (epoch ms), for the
	// waitTime annotation.
	Accepted int64 `json:"accepted"`
	// MemoryMB is the action's memory limit, for the balancer.
	MemoryMB int `json:"memory,omitempty"`
	// Builtin is true for an action of the builtin kind (a feed action):
	// in a cluster it runs on the feeds node, beside the feed manager.
	Builtin bool `json:"builtin,omitempty"`
	// Delivery is set for an attempt of a rule's activation whose rule has
	// a retry or dead-letter policy: the invoker reports the outcome on
	// the deliveries queue before it acks (see PublishOutcome).
	Delivery *Delivery `json:"delivery,omitempty"`
	// Replayed is true for an activation a trigger replay started; the
	// invoker records the annotation replayed: true.
	Replayed bool `json:"replayed,omitempty"`
	// PublishID, when set, is the bus message's id for deduplication
	// instead of ActivationID: a component a composition taken over starts
	// again, which the dead controller may have published within the
	// duplicate window. It does not travel.
	PublishID string `json:"-"`
	// hold, when set, collects the invocation to keep it later: it is
	// published volatile (see hold). It does not travel.
	hold *hold
}

// Completion carries a finished activation back to the controller that
// waits for it.
type Completion struct {
	Activation *entity.Activation `json:"activation"`
}

// Health is an invoker's ping on the health topic: that it lives and how
// loaded it is.
type Health struct {
	Invoker string `json:"invoker"`
	// UserMemoryMB is the memory budget of its containers; UsedMB what
	// they hold now.
	UserMemoryMB int `json:"userMemoryMB"`
	UsedMB       int `json:"usedMB"`
	// Running counts the activations it runs now.
	Running int `json:"running"`
	// Leaving is true in the last ping of an invoker shutting down.
	Leaving bool `json:"leaving,omitempty"`
}
