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

	"github.com/wispio/wisp/entity"
)

// ErrNoInvoker means no healthy invoker can take the invocation.
var ErrNoInvoker = errors.New("no invoker is available")

// ErrStillRunning means a blocking call outlived its wait; the activation
// goes on and its record appears when it ends.
var ErrStillRunning = errors.New("the activation is still running")

// Controller publishes invocations and delivers completions to the blocking
// callers waiting for them.
type Controller struct {
	id        string
	publisher message.Publisher
	balancer  *Balancer
	log       *slog.Logger

	mu      sync.Mutex // guards waiters
	waiters map[string]chan *entity.Activation
}

// NewController returns a controller with the given id, publishing on pub.
// Register its completion handler on a router with HandleCompletions.
func NewController(id string, pub message.Publisher, b *Balancer, log *slog.Logger) *Controller {
	return &Controller{id: id, publisher: pub, balancer: b, log: log, waiters: map[string]chan *entity.Activation{}}
}

// ID is the controller's id, the suffix of its completions topic.
func (c *Controller) ID() string { return c.id }

// HandleCompletions registers the completion consumer on r.
func (c *Controller) HandleCompletions(r *message.Router, sub message.Subscriber) {
	r.AddConsumerHandler("completions-"+c.id, CompletionsTopic(c.id), sub, c.onCompletion)
}

func (c *Controller) onCompletion(msg *message.Message) error {
	var comp Completion
	if err := json.Unmarshal(msg.Payload, &comp); err != nil || comp.Activation == nil {
		c.log.Error("drop malformed completion", "messageId", msg.UUID, "err", err)
		return nil
	}
	c.mu.Lock()
	ch, ok := c.waiters[comp.Activation.ActivationID]
	delete(c.waiters, comp.Activation.ActivationID)
	c.mu.Unlock()
	if ok {
		ch <- comp.Activation // buffered: never blocks
	}
	return nil
}

// Invoke publishes inv to the action's invoker. When wait is positive the
// call blocks until the activation completes (returning it), ctx ends, or
// wait passes (ErrStillRunning). With wait zero it returns nil, nil once the
// invocation is accepted.
func (c *Controller) Invoke(ctx context.Context, inv *Invocation, wait time.Duration) (*entity.Activation, error) {
	invoker, ok := c.balancer.Choose(inv.Action)
	if !ok {
		return nil, ErrNoInvoker
	}
	var ch chan *entity.Activation
	if wait > 0 {
		inv.ReplyTo = c.id
		ch = make(chan *entity.Activation, 1)
		c.mu.Lock()
		c.waiters[inv.ActivationID] = ch
		c.mu.Unlock()
	}
	payload, err := json.Marshal(inv)
	if err != nil {
		c.forget(inv.ActivationID)
		return nil, fmt.Errorf("encode invocation %s: %w", inv.ActivationID, err)
	}
	msg := message.NewMessage(inv.ActivationID, payload)
	if err := c.publisher.Publish(InvokerTopic(invoker), msg); err != nil {
		c.forget(inv.ActivationID)
		return nil, fmt.Errorf("publish invocation %s to %s: %w", inv.ActivationID, invoker, err)
	}
	if wait <= 0 {
		return nil, nil
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case act := <-ch:
		return act, nil
	case <-timer.C:
		c.forget(inv.ActivationID)
		return nil, ErrStillRunning
	case <-ctx.Done():
		c.forget(inv.ActivationID)
		return nil, fmt.Errorf("wait for activation %s: %w", inv.ActivationID, ctx.Err())
	}
}

func (c *Controller) forget(id string) {
	c.mu.Lock()
	delete(c.waiters, id)
	c.mu.Unlock()
}
