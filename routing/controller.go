package routing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"go.opentelemetry.io/otel/trace"

	"github.com/wispio/wisp/bus"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/throttle"
	"github.com/wispio/wisp/tracing"
)

// ErrNoInvoker means no healthy invoker can take the invocation.
var ErrNoInvoker = errors.New("no invoker is available")

// ErrStillRunning means a blocking call outlived its wait; the activation
// goes on and its record appears when it ends.
var ErrStillRunning = errors.New("the activation is still running")

// Controller publishes invocations and delivers completions to the blocking
// callers waiting for them. With a throttle it also counts each namespace's
// activations in flight, from publish to completion, blocking or not.
type Controller struct {
	id        string
	publisher message.Publisher
	balancer  *Balancer
	throttle  *throttle.Throttle // nil: no throttles
	log       *slog.Logger
	// builtins, when set, is the invoker of builtin actions.
	builtins string
	// tracer records spans; nil records none (see SetTracerProvider).
	tracer trace.Tracer

	mu sync.Mutex // guards pending
	// pending are the activations this controller published whose
	// completion it awaits.
	pending map[string]pending
}

// pending is an activation awaiting its completion.
type pending struct {
	// ch receives the activation; nil when no caller waits (non-blocking,
	// or the caller gave up).
	ch chan *entity.Activation
	// namespace is the throttled namespace; "" when not counted.
	namespace string
	// invoker and memoryMB are what the balancer counts for it.
	invoker  string
	memoryMB int
}

// NewController returns a controller with the given id, publishing on pub.
// th, when not nil, has the controller count activations in flight and the
// activator check the namespaces' limits. Register its completion handler
// on a router with HandleCompletions.
func NewController(id string, pub message.Publisher, b *Balancer, th *throttle.Throttle, log *slog.Logger) *Controller {
	return &Controller{id: id, publisher: pub, balancer: b, throttle: th, log: log, pending: map[string]pending{}}
}

// ID is the controller's id, the suffix of its completions topic.
func (c *Controller) ID() string { return c.id }

// HandleCompletions registers the completion consumer on r.
func (c *Controller) HandleCompletions(r *message.Router, sub message.Subscriber) {
	r.AddConsumerHandler("completions-"+c.id, bus.CompletionsTopic(c.id), sub, c.onCompletion)
}

func (c *Controller) onCompletion(msg *message.Message) error {
	var comp Completion
	if err := json.Unmarshal(msg.Payload, &comp); err != nil || comp.Activation == nil {
		c.log.Error("drop malformed completion", "messageId", msg.UUID, "err", err)
		return nil
	}
	c.Complete(comp.Activation)
	return nil
}

// Complete hands the caller waiting for act (if any) its record, as a
// completion from the bus does; an invoker in this process calls it
// directly, saving the record's encoding, decoding and bus hop. Neither
// side may modify act afterwards.
func (c *Controller) Complete(act *entity.Activation) {
	c.mu.Lock()
	p, ok := c.pending[act.ActivationID]
	delete(c.pending, act.ActivationID)
	if ok {
		c.release(p) // with the entry, never apart from it
	}
	c.mu.Unlock()
	if !ok {
		return // a redelivered completion, or one of another run
	}
	if p.ch != nil {
		p.ch <- act // buffered: never blocks
	}
}

// Invoke publishes inv to the action's invoker. When wait is positive the
// call blocks until the activation completes (returning it), ctx ends, or
// wait passes (ErrStillRunning). With wait zero it returns nil, nil once the
// invocation is accepted.
func (c *Controller) Invoke(ctx context.Context, inv *Invocation, wait time.Duration) (*entity.Activation, error) {
	ctx, span := c.startSpan(ctx, "routing.Invoke", trace.SpanKindProducer)
	defer span.End()
	if span.IsRecording() {
		span.SetAttributes(attrActivationID.String(inv.ActivationID), attrAction.String(inv.Action.String()))
	}
	invoker, ok := c.builtins, inv.Builtin && c.builtins != ""
	if !ok {
		if invoker, ok = c.balancer.Choose(inv.Action, inv.MemoryMB); !ok {
			return nil, ErrNoInvoker
		}
	}
	p := pending{invoker: invoker, memoryMB: inv.MemoryMB}
	if wait > 0 {
		p.ch = make(chan *entity.Activation, 1)
	}
	if c.throttle != nil {
		p.namespace = inv.Subject
		c.throttle.Started(p.namespace)
	}
	inv.ReplyTo = c.id
	c.mu.Lock()
	c.pending[inv.ActivationID] = p
	c.mu.Unlock()
	payload, err := json.Marshal(inv)
	if err != nil {
		c.abandon(inv.ActivationID)
		return nil, fmt.Errorf("encode invocation %s: %w", inv.ActivationID, err)
	}
	msg := c.invocationMessage(ctx, inv, payload)
	if wait > 0 || inv.hold != nil {
		// The caller waits (until it is told 202, the invocation need not
		// outlive the process: no fsync on the blocking path), or holds
		// what fired it until the invocation is kept (see hold).
		bus.MarkVolatile(msg)
	}
	topic := bus.InvokerTopic(invoker)
	if err := c.publisher.Publish(topic, msg); err != nil {
		c.abandon(inv.ActivationID)
		return nil, fmt.Errorf("publish invocation %s to %s: %w", inv.ActivationID, invoker, err)
	}
	if wait <= 0 {
		if inv.hold != nil {
			inv.hold.add(topic, c.keptMessage(ctx, inv, payload))
		}
		return nil, nil
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case act := <-p.ch:
		return act, nil
	case <-timer.C:
		c.forget(inv.ActivationID)
		// The caller is told 202 now: from here the invocation is kept
		// (unless it ended meanwhile: then it must not run again).
		if err := c.publisher.Publish(topic, c.keptMessage(ctx, inv, payload)); err != nil {
			c.log.Error("keep a blocking invocation that outlived its wait", "activationId", inv.ActivationID, "err", err)
		}
		return nil, ErrStillRunning
	case <-ctx.Done():
		c.forget(inv.ActivationID)
		return nil, fmt.Errorf("wait for activation %s: %w", inv.ActivationID, ctx.Err())
	}
}

// invocationMessage is the bus message of inv, encoded as payload.
func (c *Controller) invocationMessage(ctx context.Context, inv *Invocation, payload []byte) *message.Message {
	msg := bus.NewMessage(inv.ActivationID, payload)
	if inv.PublishID != "" {
		bus.SetMessageID(msg, inv.PublishID)
	}
	tracing.Inject(ctx, msg.Metadata)
	return msg
}

// keptMessage is the message that keeps inv's invocation, published
// volatile before, once it must outlive the process (see bus.KeepHeader).
func (c *Controller) keptMessage(ctx context.Context, inv *Invocation, payload []byte) *message.Message {
	msg := c.invocationMessage(ctx, inv, payload)
	bus.MarkKept(msg)
	return msg
}

// await registers a wait for the completion of activation id, which this
// controller did not publish to an invoker (a queued composition): it
// counts against no invoker or throttle. abandon ends the wait.
func (c *Controller) await(id string) <-chan *entity.Activation {
	ch := make(chan *entity.Activation, 1)
	c.mu.Lock()
	c.pending[id] = pending{ch: ch}
	c.mu.Unlock()
	return ch
}

// forget stops waiting for activation id; it stays counted in flight
// until its completion arrives.
func (c *Controller) forget(id string) {
	c.mu.Lock()
	if p, ok := c.pending[id]; ok {
		p.ch = nil
		c.pending[id] = p
	}
	c.mu.Unlock()
}

// abandon drops an activation that was never published.
func (c *Controller) abandon(id string) {
	c.mu.Lock()
	if p, ok := c.pending[id]; ok {
		c.release(p)
	}
	delete(c.pending, id)
	c.mu.Unlock()
}

// release uncounts an activation that ended (or never started).
func (c *Controller) release(p pending) {
	if p.namespace != "" {
		c.throttle.Finished(p.namespace)
	}
	c.balancer.Done(p.invoker, p.memoryMB)
}

// RouteBuiltins sends the activations of builtin actions to invoker (the
// feeds node's) instead of a balanced one.
func (c *Controller) RouteBuiltins(invoker string) { c.builtins = invoker }

// Balancer is the controller's balancer.
func (c *Controller) Balancer() *Balancer { return c.balancer }

// Publisher is the controller's bus publisher.
func (c *Controller) Publisher() message.Publisher { return c.publisher }
