package routing

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/wispio/wisp/bus"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/tracing"
)

// queuedFire is a fire on the triggers queue: accepted (its activation id
// given to the caller) but not yet run.
type queuedFire struct {
	ActivationID string      `json:"activationId"`
	Start        int64       `json:"start"`
	Request      FireRequest `json:"request"`
}

// DurableSink writes activation records and returns once they are stored.
type DurableSink interface {
	WriteActivations(ctx context.Context, acts []*entity.Activation) error
}

// Queue makes f hand accepted fires to the triggers queue on pub (a durable
// bus) instead of running them: Fire returns once the fire is stored there,
// and HandleQueued, on whichever controller takes it, runs it. A fire taken
// twice (its controller died before acking) starts its actions under the
// same activation ids, which the bus stores once.
func (f *Firer) Queue(pub message.Publisher) { f.queue = pub }

func (f *Firer) enqueue(ctx context.Context, req FireRequest, id string, start time.Time) (*FireResult, error) {
	payload, err := json.Marshal(queuedFire{ActivationID: id, Start: start.UnixMilli(), Request: req})
	if err != nil {
		return nil, fmt.Errorf("fire trigger %s: encode: %w", req.Trigger, err)
	}
	msg := bus.NewMessage(id, payload)
	tracing.Inject(ctx, msg.Metadata)
	if err := f.queue.Publish(bus.TopicTriggers, msg); err != nil {
		return nil, fmt.Errorf("fire trigger %s: queue the fire: %w", req.Trigger, err)
	}
	return &FireResult{Activation: &entity.Activation{ActivationID: id, Namespace: req.Subject, Name: req.Trigger.Name, Start: start.UnixMilli()}}, nil
}

// HandleQueued runs a fire taken from the triggers queue and writes its
// trigger activation to sink before the message is acked (it returns nil).
// A trigger deleted since the fire was accepted runs no rule.
func (f *Firer) HandleQueued(ctx context.Context, msg *message.Message, sink DurableSink) error {
	ctx, span := f.controller().consumeSpan(ctx, msg, "routing.HandleQueued")
	defer span.End()
	if span.IsRecording() {
		span.SetAttributes(attrActivationID.String(msg.UUID))
	}
	var q queuedFire
	if err := json.Unmarshal(msg.Payload, &q); err != nil {
		return f.recordUndecodable(ctx, msg, sink, err)
	}
	entry, ok := f.index.Lookup(q.Request.Trigger)
	if !ok {
		f.log.Warn("queued fire of a trigger deleted since", "activationId", q.ActivationID, "trigger", q.Request.Trigger.String())
		return nil
	}
	act, _ := f.run(ctx, q.Request, entry, q.ActivationID, time.UnixMilli(q.Start))
	annotateTrace(ctx, act)
	if err := sink.WriteActivations(ctx, []*entity.Activation{act}); err != nil {
		return fmt.Errorf("store trigger activation %s: %w", q.ActivationID, err)
	}
	if entry.Archive != nil {
		return f.archive(ctx, entry, &q)
	}
	return nil
}

// recordUndecodable records a queued fire that does not decode as a whisk
// internal error trigger activation under the fire's activation id (the
// message UUID), so that an accepted fire is never lost silently. Only a
// message naming no trigger or namespace is dropped, logged.
func (f *Firer) recordUndecodable(ctx context.Context, msg *message.Message, sink DurableSink, decodeErr error) error {
	var (
		start   int64
		trigger entity.FQN
		subject string
	)
	entity.SalvageFields(msg.Payload, map[string]any{
		"start":   &start,
		"request": map[string]any{"Trigger": &trigger, "Subject": &subject},
	})
	if !entity.ValidActivationID(msg.UUID) || subject == "" || trigger.Name == "" {
		f.log.Error("drop a queued fire that does not decode and names no trigger", "messageId", msg.UUID, "err", decodeErr)
		return nil
	}
	f.log.Error("queued fire does not decode; recorded as a whisk internal error", "activationId", msg.UUID, "namespace", subject, "trigger", trigger.String(), "err", decodeErr)
	act := &entity.Activation{
		ActivationID: msg.UUID,
		Namespace:    subject,
		Name:         trigger.Name,
		Subject:      subject,
		Start:        start,
		StatusCode:   entity.StatusWhiskError,
		Response:     entity.ErrorResponse(entity.StatusWhiskError, "Internal server error: the fire could not be decoded."),
		Logs:         []string{},
		Annotations:  entity.Params{},
	}
	if err := sink.WriteActivations(ctx, []*entity.Activation{act}); err != nil {
		return fmt.Errorf("store trigger activation %s: %w", msg.UUID, err)
	}
	return nil
}
