package routing

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"golang.org/x/sync/errgroup"

	"github.com/wispio/wisp/entity"
)

// FireNow fires req as Fire does, but runs its rules here and now instead
// of handing the fire to the triggers queue, for a source that keeps the
// event until the fire is durable (a feed's outbox): the rules' actions
// start before anything of the fire is on disk, which saves the queue's
// commits on the way from the event to the action.
//
// keep, when FireNow returns one, makes the fire durable: it returns once
// the rules' invocations are kept on the bus (or were handled already)
// and the trigger activation is written to sink (and archived, for an
// archived trigger). The source must not forget the event before keep
// returns nil; on an error it fires the event again with the same
// req.ActivationID, whose rules' activations keep their ids (the bus or
// the invoker drops those already queued or run). A nil keep has nothing
// to make durable (no active rule, or none whose filter passed: that
// record is written behind, as Fire writes it).
func (f *Firer) FireNow(ctx context.Context, req FireRequest, sink DurableSink) (res *FireResult, keep func(context.Context) error, err error) {
	return f.fire(ctx, req, sink)
}

// runNow runs a fire's rules with their invocations held and returns the
// fire's result and its keep (see FireNow).
func (f *Firer) runNow(ctx context.Context, req FireRequest, entry *TriggerEntry, id string, start time.Time, sink DurableSink) (*FireResult, func(context.Context) error) {
	h := &hold{}
	req.hold = h
	act, results := f.run(context.WithoutCancel(ctx), req, entry, id, start)
	annotateTrace(ctx, act)
	pub := f.activator.ctrl.publisher
	keep := func(ctx context.Context) error {
		// The record first: by the time it is durable, a short action has
		// often ended, and keeping its invocation writes nothing.
		if err := sink.WriteActivations(ctx, []*entity.Activation{act}); err != nil {
			return fmt.Errorf("store trigger activation %s: %w", id, err)
		}
		if err := h.keep(pub); err != nil {
			return fmt.Errorf("keep the invocations of fire %s: %w", id, err)
		}
		if entry.Archive == nil {
			return nil
		}
		return f.archive(ctx, entry, &queuedFire{ActivationID: id, Start: start.UnixMilli(), Request: req})
	}
	return &FireResult{Activation: act, Rules: results}, keep
}

// A hold collects the invocations of a fire run by FireNow. The
// controller publishes each volatile (the invoker takes it at once, the
// bus writes nothing) and adds here the message that keeps it
// (bus.KeepHeader); keep publishes those once the fire's rules have
// started.
type hold struct {
	mu   sync.Mutex
	msgs []heldInvocation
}

type heldInvocation struct {
	topic string
	msg   *message.Message
}

func (h *hold) add(topic string, msg *message.Message) {
	h.mu.Lock()
	h.msgs = append(h.msgs, heldInvocation{topic, msg})
	h.mu.Unlock()
}

// keep publishes the keeping messages on pub, at most maxFanOut at once
// (on the embedded bus, those under way share a commit).
func (h *hold) keep(pub message.Publisher) error {
	h.mu.Lock()
	msgs := h.msgs
	h.mu.Unlock()
	if len(msgs) == 1 {
		return pub.Publish(msgs[0].topic, msgs[0].msg)
	}
	var g errgroup.Group
	g.SetLimit(maxFanOut)
	for _, m := range msgs {
		g.Go(func() error { return pub.Publish(m.topic, m.msg) })
	}
	return g.Wait()
}
