package routing

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"go.opentelemetry.io/otel/trace"

	"github.com/wispio/wisp/actions/builtin"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
)

// Activator starts activations of actions by name: it resolves the name
// (packages, bindings, entitlement; see Resolver), merges parameters under
// the caller's payload and hands the invocation to the controller. Sequences
// and conductor actions run here, in the controller, as chains of blocking
// component activations. The API's invoke and a trigger's rules both start
// activations through it.
type Activator struct {
	store    store.Store
	ctrl     *Controller
	resolver *Resolver
	// seqLimit bounds the atomic actions of a sequence and the components
	// of a conductor action.
	seqLimit int
	log      *slog.Logger

	// base is the context of compositions that outlive their request;
	// Close cancels it. running counts those compositions.
	base    context.Context
	cancel  context.CancelFunc
	running sync.WaitGroup
	// queue, when set, receives accepted non-blocking compositions (see
	// Queue).
	queue message.Publisher
	// queueBlocking sends blocking compositions through the queue too
	// (see QueueBlocking).
	queueBlocking bool
}

// NewActivator returns an activator reading actions from st. Call Close to
// stop the sequences and conductor actions it still runs.
func NewActivator(st store.Store, ctrl *Controller) *Activator {
	base, cancel := context.WithCancel(context.Background())
	return &Activator{
		store: st, ctrl: ctrl, resolver: NewResolver(st),
		seqLimit: entity.DefaultSystemLimits().SequenceLength, log: ctrl.log,
		base: base, cancel: cancel,
	}
}

// Controller is the activator's controller.
func (a *Activator) Controller() *Controller { return a.ctrl }

// Resolver is the activator's name resolver.
func (a *Activator) Resolver() *Resolver { return a.resolver }

// Close waits until the running sequences and conductor actions end, or
// until ctx ends, when it cancels them and waits for them to record their
// failure.
func (a *Activator) Close(ctx context.Context) error {
	done := make(chan struct{})
	go func() { a.running.Wait(); close(done) }()
	select {
	case <-done:
		a.cancel()
		return nil
	case <-ctx.Done():
		a.cancel()
		<-done
		return fmt.Errorf("stop compositions: %w", ctx.Err())
	}
}

// Request asks for one activation.
type Request struct {
	// Action is the action to run.
	Action entity.FQN
	// Subject is the namespace on whose behalf it runs. The caller's key
	// never travels with the request (a queued one is on the bus): actions
	// annotated provide-api-key get an activation key of their own (see
	// package actionkey), which cannot outlive KeyExpires, set when the
	// caller itself held an activation key (an action calling the API).
	Subject    string
	KeyExpires time.Time `json:",omitzero"`
	// Payload are the caller's parameters; they win over the action's.
	Payload entity.Params
	// Cause is the activation that caused this one (a trigger, a sequence).
	Cause         string
	TransactionID string
	// ActivationID is the id to use; empty makes a new one.
	ActivationID string
	// Wait is how long to wait for the result; zero does not wait.
	Wait time.Duration
	// Accepted is when the request was accepted; zero means now.
	Accepted time.Time
	// Delivery, for a rule's attempt with a delivery policy, travels with
	// the invocation (primitive actions only).
	Delivery *Delivery
	// Replayed marks an activation started by a trigger replay.
	Replayed bool
	// publishID, when set, is the invocation's publish id (see
	// Invocation.PublishID).
	publishID string
	// hold, when set, holds a primitive action's invocation (see hold).
	hold *hold
}

// Activate starts the activation. It returns the activation id and, when
// req.Wait is positive and the activation ended in time, its record;
// ErrStillRunning when it did not end in time; store.ErrNotFound when the
// action does not exist; *ForbiddenError when req.Subject may not invoke it;
// *throttle.Error when req.Subject is over its invocation limits (checked
// first, as OpenWhisk does; a sequence counts once).
func (a *Activator) Activate(ctx context.Context, req Request) (string, *entity.Activation, error) {
	if req.Subject == "" {
		req.Subject = req.Action.Namespace
	}
	if req.ActivationID == "" {
		req.ActivationID = entity.NewActivationID()
	}
	ctx, span := a.ctrl.startSpan(ctx, "routing.Activate", trace.SpanKindInternal)
	defer span.End()
	if span.IsRecording() {
		span.SetAttributes(attrActivationID.String(req.ActivationID), attrAction.String(req.Action.String()), attrNamespace.String(req.Subject))
	}
	if err := a.checkThrottle(ctx, req); err != nil {
		return req.ActivationID, nil, err
	}
	res, err := a.resolver.Action(ctx, req.Subject, req.Action)
	if err != nil {
		return req.ActivationID, nil, fmt.Errorf("activate %s: %w", req.Action, err)
	}
	return a.activateResolved(ctx, req, res)
}

// ActivateResolved is Activate for an action the caller already resolved
// for req.Subject with Resolver().Action (web actions inspect its
// annotations first); it saves a second resolution.
func (a *Activator) ActivateResolved(ctx context.Context, req Request, res *Resolved) (string, *entity.Activation, error) {
	if req.ActivationID == "" {
		req.ActivationID = entity.NewActivationID()
	}
	if req.Subject == "" {
		req.Subject = req.Action.Namespace
	}
	if err := a.checkThrottle(ctx, req); err != nil {
		return req.ActivationID, nil, err
	}
	return a.activateResolved(ctx, req, res)
}

func (a *Activator) checkThrottle(ctx context.Context, req Request) error {
	if a.ctrl.throttle == nil {
		return nil
	}
	if err := a.ctrl.throttle.CheckInvoke(ctx, req.Subject); err != nil {
		return fmt.Errorf("activate %s: %w", req.Action, err)
	}
	return nil
}

func (a *Activator) activateResolved(ctx context.Context, req Request, res *Resolved) (string, *entity.Activation, error) {
	if req.Accepted.IsZero() {
		req.Accepted = time.Now()
	}
	if isComposition(res.Action) {
		req.hold = nil // a composition is queued durably, or runs here
		act, err := a.startComposition(ctx, req, res)
		return req.ActivationID, act, err
	}
	act, err := a.invoke(ctx, req, res, "")
	return req.ActivationID, act, err
}

// invoke publishes one activation of a primitive action. causedBy, when
// set, becomes the activation's causedBy annotation.
func (a *Activator) invoke(ctx context.Context, req Request, res *Resolved, causedBy string) (*entity.Activation, error) {
	inv := &Invocation{
		ActivationID:  req.ActivationID,
		TransactionID: req.TransactionID,
		Action:        res.FQN,
		Revision:      res.Revision,
		Subject:       req.Subject,
		Params:        RunParams(res.Params, req.Payload),
		Cause:         req.Cause,
		CausedBy:      causedBy,
		Accepted:      req.Accepted.UnixMilli(),
		MemoryMB:      res.Action.Limits.Memory,
		Builtin:       res.Action.Exec.Kind == builtin.Kind,
		Delivery:      req.Delivery,
		Replayed:      req.Replayed,
		PublishID:     req.publishID,
		hold:          req.hold,
	}
	if !req.KeyExpires.IsZero() && res.Action.Annotations.IsTrue("provide-api-key") {
		inv.KeyExpires = req.KeyExpires.UnixMilli() // bounds the activation key the invoker mints
	}
	return a.ctrl.Invoke(ctx, inv, req.Wait)
}

// RunParams merges the action's parameters (those not meant for /init)
// under the payload, as the object the action receives.
func RunParams(actionParams, payload entity.Params) json.RawMessage {
	var merged entity.Params
	for _, p := range actionParams {
		if !p.Init {
			merged = append(merged, p)
		}
	}
	return merged.Merge(payload).Object()
}
