package routing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/wispio/wisp/bus"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/throttle"
	"github.com/wispio/wisp/tracing"
)

// Delivery is one attempt of a rule's activation whose rule has a retry
// or dead-letter policy. It travels with the invocation to the invoker,
// which reports the attempt's outcome on the deliveries queue (see
// PublishOutcome); Firer.HandleDelivery then schedules the next attempt
// or fires the dead-letter trigger. Every step is a queued message acked
// only after the next one is stored, so a crash repeats a step (under the
// same ids) and loses none.
type Delivery struct {
	Rule    entity.FQN `json:"rule"`
	Trigger entity.FQN `json:"trigger"`
	Action  entity.FQN `json:"action"`
	Subject string     `json:"subject"`
	// Fire is the trigger activation id: every attempt's cause.
	Fire string `json:"fire"`
	// Attempt counts from 1.
	Attempt int                 `json:"attempt"`
	Policy  entity.RuleDelivery `json:"policy"`
	// Event is the fire's payload, as a JSON object.
	Event json.RawMessage `json:"event"`
	// Failed lists the activation ids of the earlier failed attempts.
	Failed        []string `json:"failed,omitempty"`
	TransactionID string   `json:"transactionId,omitempty"`
}

// Outcome is how one attempt ended.
type Outcome struct {
	ActivationID string `json:"activationId"`
	StatusCode   int    `json:"statusCode"`
	Status       string `json:"status"`
	Error        string `json:"error,omitempty"`
	// Result is the activation's result, kept only for a rule with a sink.
	Result json.RawMessage `json:"result,omitempty"`
}

// deliveryStep is a message on the deliveries queue: an attempt's outcome
// to act on, or (Outcome nil) an attempt to start when it is due.
type deliveryStep struct {
	Delivery Delivery `json:"delivery"`
	Outcome  *Outcome `json:"outcome,omitempty"`
	// Sink, when positive, is the number of a successful outcome's
	// attempt to reach the rule's sink (see sink.go).
	Sink int `json:"sink,omitempty"`
}

// DeliveriesAckWait is how long a controller may hold a message of the
// deliveries queue: on NATS, a retry not yet due is waited for by its
// consumer, so it exceeds the longest backoff.
const DeliveriesAckWait = entity.MaxRetryBackoff + time.Minute

// PublishOutcome reports the outcome of act, an attempt of m (whose
// Delivery is set), on the deliveries queue; the invoker calls it after
// the record is written and before it acks m. The message id derives from
// the activation id, so a repeat is stored once while the first waits.
func PublishOutcome(pub message.Publisher, m *Invocation, act *entity.Activation) error {
	step := deliveryStep{Delivery: *m.Delivery, Outcome: outcomeOf(act)}
	if m.Delivery.Policy.Sink != "" && act.Response.StatusCode == entity.StatusSuccess {
		step.Outcome.Result = act.Response.Result
	}
	payload, err := json.Marshal(step)
	if err != nil {
		return fmt.Errorf("encode the outcome of %s: %w", act.ActivationID, err)
	}
	if err := pub.Publish(bus.TopicDeliveries, bus.NewMessage(act.ActivationID+".outcome", payload)); err != nil {
		return fmt.Errorf("queue the outcome of %s: %w", act.ActivationID, err)
	}
	return nil
}

func outcomeOf(act *entity.Activation) *Outcome {
	o := &Outcome{ActivationID: act.ActivationID, StatusCode: act.Response.StatusCode, Status: act.Response.Status}
	var body struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(act.Response.Result, &body) == nil && len(body.Error) > 0 {
		var s string
		if json.Unmarshal(body.Error, &s) == nil {
			o.Error = s
		} else {
			o.Error = string(body.Error)
		}
	}
	return o
}

// firstAttempt is the delivery of a rule's first attempt in a fire; nil
// when the rule has no policy or fires are not queued (no bus to keep the
// steps on).
func (f *Firer) firstAttempt(req FireRequest, r IndexedRule, fire string) *Delivery {
	if r.Delivery == nil || f.queue == nil {
		return nil
	}
	return &Delivery{
		Rule: r.Rule, Trigger: req.Trigger, Action: r.Action, Subject: req.Subject,
		Fire: fire, Attempt: 1, Policy: *r.Delivery, Event: req.Payload.Object(),
		TransactionID: req.TransactionID,
	}
}

// startFailed acts on an attempt that could not start (the action is
// gone, the namespace throttled, no invoker) as on one that failed.
func (f *Firer) startFailed(ctx context.Context, d *Delivery, res RuleResult, id string) error {
	status := "application error"
	if res.StatusCode == entity.StatusWhiskError {
		status = "whisk internal error"
	}
	return f.afterAttempt(ctx, d, &Outcome{ActivationID: id, StatusCode: res.StatusCode, Status: status, Error: res.Error})
}

// HandleDelivery handles one message of the deliveries queue: an attempt
// due (it starts it) or an attempt's outcome (it schedules the next
// attempt or fires the dead-letter trigger). It returns nil once the next
// step is stored; an error leaves the message for a redelivery.
func (f *Firer) HandleDelivery(ctx context.Context, msg *message.Message) error {
	var step deliveryStep
	if err := json.Unmarshal(msg.Payload, &step); err != nil {
		f.log.Error("drop a delivery step that does not decode", "messageId", msg.UUID, "err", err)
		return nil
	}
	if wait := time.Until(bus.NotBefore(msg.Metadata)); wait > 0 {
		// NATS delivers scheduled retries at once: wait here.
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	ctx = tracing.Extract(ctx, msg.Metadata)
	switch {
	case step.Outcome != nil && step.Sink > 0:
		return f.toSink(ctx, &step.Delivery, step.Outcome, step.Sink)
	case step.Outcome != nil:
		return f.afterAttempt(ctx, &step.Delivery, step.Outcome)
	}
	return f.attempt(ctx, &step.Delivery)
}

// afterAttempt schedules the next attempt of a failed one, or fires the
// dead-letter trigger after the last; a success or a failure the policy
// does not count ends the delivery.
func (f *Firer) afterAttempt(ctx context.Context, d *Delivery, o *Outcome) error {
	if o.StatusCode == entity.StatusSuccess && d.Policy.Sink != "" {
		return f.toSink(ctx, d, o, 1)
	}
	if !d.Policy.Retry.Retries(o.StatusCode) {
		return nil
	}
	if d.Attempt < d.Policy.Attempts() {
		next := *d
		next.Attempt++
		next.Failed = append(append([]string(nil), d.Failed...), o.ActivationID)
		return f.schedule(ctx, &next, time.Now().Add(d.Policy.Retry.Delay(d.Attempt)))
	}
	if d.Policy.DeadLetter == "" {
		f.log.Warn("a rule's activation failed its last attempt", "activationId", o.ActivationID, "rule", d.Rule.String(), "attempts", d.Attempt)
		return nil
	}
	return f.deadLetter(ctx, d, o)
}

// schedule queues attempt d to start at due.
func (f *Firer) schedule(ctx context.Context, d *Delivery, due time.Time) error {
	return f.publishStep(ctx, deliveryStep{Delivery: *d}, AttemptID(d.Fire, d.Rule, d.Attempt)+".attempt", due)
}

// publishStep queues step on the deliveries queue under id, not to be
// delivered before due.
func (f *Firer) publishStep(ctx context.Context, step deliveryStep, id string, due time.Time) error {
	payload, err := json.Marshal(step)
	if err != nil {
		return fmt.Errorf("encode delivery step %s of rule %s: %w", id, step.Delivery.Rule, err)
	}
	msg := bus.NewMessage(id, payload)
	bus.SetNotBefore(msg, due)
	tracing.Inject(ctx, msg.Metadata)
	if err := f.queue.Publish(bus.TopicDeliveries, msg); err != nil {
		return fmt.Errorf("queue delivery step %s of rule %s: %w", id, step.Delivery.Rule, err)
	}
	return nil
}

// attempt starts attempt d of a rule's activation with the trigger's
// current parameters under the event. A rule deleted, disabled or moved
// since is not attempted again.
func (f *Firer) attempt(ctx context.Context, d *Delivery) error {
	entry, ok := f.index.Lookup(d.Trigger)
	var rule *IndexedRule
	if ok {
		for i := range entry.Rules {
			if entry.Rules[i].Rule == d.Rule {
				rule = &entry.Rules[i]
			}
		}
	}
	if rule == nil || !rule.Active {
		f.log.Warn("no retry: the rule is gone or inactive", "rule", d.Rule.String(), "cause", d.Fire, "attempt", d.Attempt)
		return nil
	}
	args := entry.Parameters.Merge(eventParams(d.Event))
	id := AttemptID(d.Fire, d.Rule, d.Attempt)
	_, _, err := f.activator.Activate(ctx, Request{
		Action: d.Action, Subject: d.Subject, Payload: args, Cause: d.Fire,
		TransactionID: d.TransactionID, ActivationID: id, Delivery: d,
	})
	if err == nil {
		return nil
	}
	res := RuleResult{StatusCode: entity.StatusApplicationError, Error: err.Error()}
	if errors.Is(err, ErrNoInvoker) || !isRefusal(err) {
		res.StatusCode = entity.StatusWhiskError
	}
	return f.startFailed(ctx, d, res, id)
}

// isRefusal reports whether an activation was refused for the caller's
// sake (missing action, throttled, forbidden): an application error.
func isRefusal(err error) bool {
	var forbidden *ForbiddenError
	return errors.Is(err, store.ErrNotFound) || errors.As(err, &forbidden) || isThrottled(err)
}

func isThrottled(err error) bool {
	var throttled *throttle.Error
	return errors.As(err, &throttled)
}

// eventParams turns an event object back into parameters.
func eventParams(event json.RawMessage) entity.Params {
	var m map[string]json.RawMessage
	if json.Unmarshal(event, &m) != nil {
		return nil
	}
	p := make(entity.Params, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		p = append(p, entity.KeyValue{Key: k, Value: m[k]})
	}
	return p
}

// deadLetter fires d's dead-letter trigger with the event and the failure,
// under an activation id derived from the fire and the rule, so that a
// repeat records one trigger activation and runs its rules once.
func (f *Firer) deadLetter(ctx context.Context, d *Delivery, o *Outcome) error {
	dl, err := entity.ParseFQN("deadLetter", d.Policy.DeadLetter, d.Subject)
	if err != nil {
		f.log.Error("drop a dead letter to an invalid trigger", "trigger", d.Policy.DeadLetter, "err", err)
		return nil
	}
	failure := map[string]any{
		"activationId": o.ActivationID, "status": o.Status, "statusCode": o.StatusCode, "error": o.Error,
		"attempts": d.Attempt, "activationIds": append(append([]string(nil), d.Failed...), o.ActivationID),
		"rule": d.Rule.String(), "trigger": d.Trigger.String(), "action": d.Action.String(), "cause": d.Fire,
	}
	payload := entity.Params{}.Set("event", d.Event).Set("failure", failure)
	_, err = f.Fire(ctx, FireRequest{
		Trigger: dl, Subject: d.Subject, Payload: payload, TransactionID: d.TransactionID,
		ActivationID: AttemptID(d.Fire, d.Rule, 0),
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		f.log.Error("drop a dead letter: its trigger does not exist", "trigger", dl.String(), "rule", d.Rule.String(), "activationId", o.ActivationID)
		return nil
	case err != nil:
		return fmt.Errorf("fire dead-letter trigger %s: %w", dl, err)
	}
	return nil
}

// AttemptID is the activation id of attempt n of rule's activation in the
// fire cause: the first is RuleActivationID's; 0 is the dead letter's
// trigger activation.
func AttemptID(cause string, rule entity.FQN, n int) string {
	if n == 1 {
		return RuleActivationID(cause, rule)
	}
	h := sha256.New()
	h.Write([]byte(cause))
	h.Write([]byte{0})
	h.Write([]byte(rule.String()))
	h.Write([]byte{0})
	h.Write([]byte(strconv.Itoa(n)))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// checkDeadLetter checks that the dead-letter trigger of r, when it names
// one, exists.
func (t *Triggers) checkDeadLetter(ctx context.Context, r *entity.Rule) error {
	if r.DeadLetter == "" {
		return nil
	}
	f, err := entity.ParseFQN("deadLetter", r.DeadLetter, r.Namespace)
	if err != nil {
		return err
	}
	tr, _, err := t.trigger(ctx, f)
	if err != nil {
		return err
	}
	if tr == nil {
		return entity.Invalid("deadLetter", "trigger %s does not exist", f)
	}
	return nil
}

// checkSink checks that the sink trigger of r, when it names one, exists.
func (t *Triggers) checkSink(ctx context.Context, r *entity.Rule) error {
	f, ok := r.Delivery().SinkTrigger()
	if !ok {
		return nil
	}
	tr, _, err := t.trigger(ctx, f)
	if err != nil {
		return err
	}
	if tr == nil {
		return entity.Invalid("sink", "trigger %s does not exist", f)
	}
	return nil
}
