package routing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/wispio/wisp/bus"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
)

// CompositionAckWait is how long a queued composition stays with a
// controller that gives no sign of life (NATS): its consumer reports it in
// progress every CompositionProgress while it runs, so a live controller
// keeps a composition however long it runs, and a dead one's is handed to
// another controller between CompositionAckWait-CompositionProgress and
// CompositionAckWait after it died.
const CompositionAckWait = 20 * time.Second

// CompositionProgress is how often a controller running a queued
// composition tells the bus it is still at work (bus.Bus.InProgress).
const CompositionProgress = 4 * time.Second

// Queue makes a hand accepted non-blocking sequence and conductor
// activations to the compositions queue on pub (a durable bus) instead of
// running them at once: the caller's 202 is then a composition on disk.
// HandleQueued, on whichever controller takes it, runs it and stores its
// record before the ack. One taken again (its controller died) goes on
// from its last completed component: every derived activation has an id
// derived from the composition's (DerivedActivationID), and those whose
// records are in the store are not run again.
func (a *Activator) Queue(pub message.Publisher) { a.queue = pub }

// QueueBlocking has blocking compositions go through the compositions
// queue too (in a cluster): the controller that accepted the call waits
// for the record, which whichever controller ran the composition sends to
// its completions. When the accepting controller dies the caller's
// connection dies with it, but the composition goes on and is recorded.
// Without it, a blocking composition runs in the accepting controller's
// process, as `wisp serve` alone does (no queue write on the way).
func (a *Activator) QueueBlocking() { a.queueBlocking = true }

// queuedComposition is a composition on the compositions queue.
type queuedComposition struct {
	Request Request `json:"request"`
	// ReplyTo is the controller waiting for the record of a blocking
	// call; empty for a non-blocking one.
	ReplyTo string `json:"replyTo,omitempty"`
}

// awaitQueued queues a blocking composition and waits for its record
// until req.Wait passes (ErrStillRunning: it goes on) or ctx ends.
func (a *Activator) awaitQueued(ctx context.Context, req Request) (*entity.Activation, error) {
	done := a.ctrl.await(req.ActivationID)
	if err := a.enqueueComposition(req, a.ctrl.id); err != nil {
		a.ctrl.abandon(req.ActivationID)
		return nil, err
	}
	timer := time.NewTimer(req.Wait)
	defer timer.Stop()
	select {
	case act := <-done:
		return act, nil
	case <-timer.C:
		a.ctrl.abandon(req.ActivationID)
		return nil, ErrStillRunning
	case <-ctx.Done():
		a.ctrl.abandon(req.ActivationID)
		return nil, fmt.Errorf("wait for activation %s: %w", req.ActivationID, ctx.Err())
	}
}

func (a *Activator) enqueueComposition(req Request, replyTo string) error {
	payload, err := json.Marshal(queuedComposition{Request: req, ReplyTo: replyTo})
	if err != nil {
		return fmt.Errorf("activate %s: encode: %w", req.Action, err)
	}
	if err := a.queue.Publish(bus.TopicCompositions, bus.NewMessage(req.ActivationID, payload)); err != nil {
		return fmt.Errorf("activate %s: queue the composition: %w", req.Action, err)
	}
	return nil
}

// HandleQueued runs a composition taken from the compositions queue and
// writes its record to sink; nil means the message may be acked. An action
// deleted (or unshared) since it was accepted gets a record saying so. A
// composition cut short by Close is left for a redelivery.
func (a *Activator) HandleQueued(ctx context.Context, msg *message.Message, sink DurableSink) error {
	var q queuedComposition
	if err := json.Unmarshal(msg.Payload, &q); err != nil {
		// Wisp wrote it: unreadable means a damaged queue; keeping it would
		// block nothing but never succeed.
		a.log.Error("drop an unreadable queued composition", "activationId", msg.UUID, "err", err)
		return nil
	}
	req := q.Request
	a.running.Add(1)
	defer a.running.Done()
	// Taken again (its controller died, or this process restarted): what
	// ran is in the store under derived ids. A first delivery on a bus
	// that counts them looks nothing up.
	n, counted := bus.Deliveries(msg)
	retake := !counted || n > 1
	if retake {
		if act, err := a.store.GetActivation(ctx, req.Subject, req.ActivationID); err == nil {
			a.log.Info("a queued composition taken again has its record already", "activationId", req.ActivationID)
			a.reply(q.ReplyTo, act)
			return nil
		}
	}
	res, err := a.resolver.Action(ctx, req.Subject, req.Action)
	var act *entity.Activation
	if err != nil {
		act = a.unstartedRecord(req, err)
	} else {
		c := &composition{a: a, req: req, resume: retake, retake: retake, durable: true}
		act = c.run(a.base, res, req.Payload, req.ActivationID, true, req.Cause)
		if a.base.Err() != nil {
			return fmt.Errorf("composition %s: stopped with the controller: %w", req.ActivationID, a.base.Err())
		}
	}
	if err := sink.WriteActivations(ctx, []*entity.Activation{act}); err != nil {
		return fmt.Errorf("store the record of composition %s: %w", req.ActivationID, err)
	}
	a.reply(q.ReplyTo, act)
	return nil
}

// reply sends the record of a blocking composition to the controller
// waiting for it, if any; one that is gone finds the record in the store.
func (a *Activator) reply(controller string, act *entity.Activation) {
	if controller == "" {
		return
	}
	payload, err := json.Marshal(Completion{Activation: act})
	if err == nil {
		err = a.queue.Publish(bus.CompletionsTopic(controller), bus.NewMessage(act.ActivationID, payload))
	}
	if err != nil {
		a.log.Error("send the record of a blocking composition", "activationId", act.ActivationID, "controller", controller, "err", err)
	}
}

// unstartedRecord is the record of a queued composition whose action can
// no longer be resolved.
func (a *Activator) unstartedRecord(req Request, err error) *entity.Activation {
	resp := entity.ErrorResponse(entity.StatusWhiskError, "Internal server error")
	var fe *ForbiddenError
	switch {
	case errors.Is(err, store.ErrNotFound):
		resp = entity.ErrorResponse(entity.StatusApplicationError, "The requested resource does not exist.")
	case errors.As(err, &fe):
		resp = entity.ErrorResponse(entity.StatusApplicationError, fe.Error())
	default:
		a.log.Error("resolve a queued composition", "activationId", req.ActivationID, "action", req.Action.String(), "err", err)
	}
	now := time.Now().UnixMilli()
	return &entity.Activation{
		ActivationID: req.ActivationID, Namespace: req.Subject, Name: req.Action.Path(), Subject: req.Subject,
		Start: now, End: now, StatusCode: resp.StatusCode, Response: resp, Logs: []string{},
		Annotations: entity.Params{}.Set("path", req.Action.Namespace+"/"+req.Action.Path()),
		Cause:       req.Cause,
	}
}
