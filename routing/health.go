package routing

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/wispio/wisp/bus"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/tracing"
)

// Reclaimer takes over the queue of an invoker that is gone (bus.Bus:
// NATS hands it to the invokers alive; the embedded bus has none to).
type Reclaimer interface {
	Reclaim(ctx context.Context, topic, consumer string, handle func(*message.Message) error) (int, error)
}

// Watcher keeps a controller's balancer in step with the invokers' health
// pings and hands the queue of an invoker that falls silent to the
// invokers still alive.
type Watcher struct {
	ctrl      *Controller
	reclaimer Reclaimer
	// consumer names an invoker's consumer of its queue.
	consumer func(invoker string) string
	// Silence is how long an invoker may stay silent before it is taken
	// out.
	Silence time.Duration
	log     *slog.Logger
}

// NewWatcher returns a watcher for ctrl's balancer; consumer names an
// invoker's queue consumer (invoker.QueueConsumer).
func NewWatcher(ctrl *Controller, r Reclaimer, consumer func(string) string, silence time.Duration) *Watcher {
	return &Watcher{ctrl: ctrl, reclaimer: r, consumer: consumer, Silence: silence, log: ctrl.log}
}

// Run consumes pings from msgs until ctx ends or msgs closes.
func (w *Watcher) Run(ctx context.Context, msgs <-chan *message.Message) {
	tick := time.NewTicker(w.Silence / 4)
	defer tick.Stop()
	b := w.ctrl.balancer
	for {
		select {
		case <-ctx.Done():
			return
		case msg, ok := <-msgs:
			if !ok {
				return
			}
			var h Health
			if err := json.Unmarshal(msg.Payload, &h); err != nil || h.Invoker == "" {
				w.log.Warn("drop malformed health ping", "err", err)
			} else if b.Observe(h, time.Now()) {
				w.log.Info("invokers changed", "invoker", h.Invoker, "leaving", h.Leaving)
			}
			msg.Ack()
		case now := <-tick.C:
			for _, id := range b.Expire(now, w.Silence) {
				w.log.Warn("invoker is silent: taken out, its queue handed to the others", "invoker", id, "silence", w.Silence)
				go w.reclaim(ctx, id)
			}
		}
	}
}

// reclaim moves what the dead invoker's queue holds to healthy invokers,
// retrying until it succeeds or ctx ends.
func (w *Watcher) reclaim(ctx context.Context, invoker string) {
	for attempt := 0; ; attempt++ {
		n, err := w.reclaimer.Reclaim(ctx, bus.InvokerTopic(invoker), w.consumer(invoker), w.resend)
		if err == nil {
			if n > 0 {
				w.log.Info("reclaimed invocations of a silent invoker", "invoker", invoker, "count", n)
			}
			return
		}
		w.log.Warn("reclaim the queue of a silent invoker", "invoker", invoker, "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(min(time.Second<<attempt, 30*time.Second)):
		}
	}
}

// resend publishes a reclaimed invocation to the invoker the balancer picks
// now. The activation id stays (one record, whoever runs it); the message
// id gains the stream sequence, so the stream does not take it for the
// duplicate of the first publish.
func (w *Watcher) resend(msg *message.Message) error {
	var inv Invocation
	if err := json.Unmarshal(msg.Payload, &inv); err != nil {
		// Resent all the same, to the invoker of its action if that
		// can be read: the invoker records it as a whisk internal error
		// rather than it being lost here.
		inv = Invocation{ActivationID: msg.UUID}
		entity.SalvageFields(msg.Payload, map[string]any{"activationId": &inv.ActivationID, "action": &inv.Action})
		w.log.Error("reclaimed invocation does not decode; resent for its invoker to record", "activationId", inv.ActivationID, "err", err)
	}
	target, ok := w.ctrl.balancer.Choose(inv.Action, 0)
	if !ok {
		return ErrNoInvoker
	}
	out := bus.NewMessage(inv.ActivationID, msg.Payload)
	bus.SetMessageID(out, inv.ActivationID+"@"+msg.Metadata.Get(bus.SeqHeader))
	tracing.Inject(tracing.Extract(context.Background(), msg.Metadata), out.Metadata) // the trace goes on
	if err := w.ctrl.publisher.Publish(bus.InvokerTopic(target), out); err != nil {
		return fmt.Errorf("resend %s to %s: %w", inv.ActivationID, target, err)
	}
	return nil
}
