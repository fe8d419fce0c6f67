package routing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
)

// componentGrace is how much longer than a component's own timeout a
// sequence waits for its result (OpenWhisk: timeout + 1 minute).
const componentGrace = time.Minute

// causedBySequence is the causedBy annotation of derived activations.
const causedBySequence = "sequence"

// isComposition reports whether an action runs in the controller as a
// chain of other activations: a sequence or a conductor action.
func isComposition(a *entity.Action) bool {
	return a.Exec.Kind == entity.KindSequence || a.IsConductor()
}

// composition is the accounting of one topmost sequence or conductor
// invocation and everything nested in it. It is owned by the one goroutine
// that runs the chain.
type composition struct {
	a   *Activator
	req Request // subject, key and transaction of the topmost call
	// atomic counts primitive component activations, secondary the
	// conductor's own activations, both across all nesting levels.
	atomic, secondary int
	// resume is set while a composition taken again (its controller died)
	// replays what already ran: each derived activation is looked up in
	// the store before it is started, and one that has a record is not
	// started again. The first primitive activation without a record ends
	// the replay (those after it were never started).
	resume bool
	// durable marks a composition from the compositions queue: cut short
	// by Close, it stores no record, for the next delivery to go on.
	durable bool
	// retake marks a composition taken again: its records start when its
	// first run did, with its first derived activation.
	retake bool
}

// trail collects what a primary (sequence or conductor) activation
// records about its derived activations.
type trail struct {
	logs      []string
	duration  int64
	maxMemory int
	response  entity.Response
	// firstStart is the start (epoch ms) of the first derived activation.
	firstStart int64
}

func (t *trail) add(act *entity.Activation, memory int) {
	if len(t.logs) == 0 {
		t.firstStart = act.Start
	}
	t.logs = append(t.logs, act.ActivationID)
	t.duration += act.Duration
	t.maxMemory = max(t.maxMemory, memory)
	t.response = act.Response
}

// startComposition runs a sequence or conductor action in a goroutine that
// outlives the request (tracked for Close) and waits for it when the call
// is blocking.
func (a *Activator) startComposition(ctx context.Context, req Request, res *Resolved) (*entity.Activation, error) {
	if a.queue != nil {
		if req.Wait <= 0 {
			return nil, a.enqueueComposition(req, "")
		}
		if a.queueBlocking {
			return a.awaitQueued(ctx, req)
		}
	}
	done := make(chan *entity.Activation, 1)
	a.running.Add(1)
	go func() {
		defer a.running.Done()
		c := &composition{a: a, req: req}
		act := c.run(a.base, res, req.Payload, req.ActivationID, true, req.Cause)
		done <- act
	}()
	if req.Wait <= 0 {
		return nil, nil
	}
	timer := time.NewTimer(req.Wait)
	defer timer.Stop()
	select {
	case act := <-done:
		return act, nil
	case <-timer.C:
		return nil, ErrStillRunning
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for activation %s: %w", req.ActivationID, ctx.Err())
	}
}

// run executes one sequence or conductor activation with id and stores its
// record.
func (c *composition) run(ctx context.Context, res *Resolved, payload entity.Params, id string, topmost bool, cause string) *entity.Activation {
	start := time.Now()
	t := &trail{logs: []string{}, maxMemory: res.Action.Limits.Memory}
	if res.Action.Exec.Kind == entity.KindSequence {
		c.sequence(ctx, res, payload, id, t)
	} else {
		c.conductor(ctx, res, payload, id, t)
	}
	if c.retake && t.firstStart > 0 && t.firstStart < start.UnixMilli() {
		start = time.UnixMilli(t.firstStart)
	}
	act := c.record(res, id, topmost, cause, start, t)
	if c.durable && (topmost || ctx.Err() != nil) {
		// The queue's handler writes the topmost record before its ack; a
		// composition cut short records nothing, its next delivery goes on.
		return act
	}
	if err := c.a.store.PutActivations(context.WithoutCancel(ctx), []*entity.Activation{act}); err != nil {
		c.a.log.Error("store activation", "activationId", id, "namespace", act.Namespace, "action", res.FQN.String(), "err", err)
	}
	return act
}

func (c *composition) record(res *Resolved, id string, topmost bool, cause string, start time.Time, t *trail) *entity.Activation {
	end := time.Now()
	limits := res.Action.Limits
	limits.Memory = t.maxMemory
	ann := entity.Params{}.
		Set("topmost", topmost).
		Set("path", res.FQN.Namespace+"/"+res.FQN.Path()).
		Set("kind", entity.KindSequence)
	if res.Action.IsConductor() {
		ann = ann.Set("conductor", true)
	}
	if !topmost {
		ann = ann.Set("causedBy", causedBySequence)
	} else {
		ann = ann.Set("waitTime", max(0, start.Sub(c.req.Accepted).Milliseconds()))
	}
	ann = ann.Set("limits", limits)
	return &entity.Activation{
		ActivationID: id,
		Namespace:    c.req.Subject,
		Name:         res.FQN.Path(),
		Version:      res.Action.Version,
		Subject:      c.req.Subject,
		Start:        start.UnixMilli(),
		End:          end.UnixMilli(),
		Duration:     t.duration,
		StatusCode:   t.response.StatusCode,
		Response:     t.response,
		Logs:         t.logs,
		Annotations:  ann,
		Cause:        cause,
	}
}

// sequence runs the components in order: the sequence's own (merged)
// parameters and the payload go to the first, each result is the next one's
// payload, and a failure ends the chain with that failure.
func (c *composition) sequence(ctx context.Context, res *Resolved, payload entity.Params, id string, t *trail) {
	input := res.Params.Merge(payload)
	t.response = entity.NewResponse(entity.StatusSuccess, input.Object())
	for step, name := range res.Action.Exec.Components {
		if c.atomic >= c.a.seqLimit {
			t.response = entity.ErrorResponse(entity.StatusApplicationError, msgSequenceTooLong)
			return
		}
		comp, failure := c.resolveComponent(ctx, name, msgSequenceComponentMissing)
		if failure != nil {
			t.response = *failure
			return
		}
		act, err := c.component(ctx, comp, input, id, DerivedActivationID(id, step))
		if err != nil {
			t.logs = append(t.logs, act.ActivationID)
			t.response = componentFailure(act, err)
			return
		}
		t.add(act, comp.Action.Limits.Memory)
		if !act.Response.Success {
			return
		}
		if input, err = entity.ParamsFromObject("result", act.Response.Result); err != nil {
			t.response = entity.ErrorResponse(entity.StatusDeveloperError, "The component result is not a JSON object.")
			return
		}
	}
}

// resolveComponent resolves a component name for the composition's
// subject; a failure is the response that ends the composition.
func (c *composition) resolveComponent(ctx context.Context, name, missing string) (*Resolved, *entity.Response) {
	f, err := entity.ParseFQN("action", name, c.req.Subject)
	if err != nil {
		r := entity.ErrorResponse(entity.StatusApplicationError, "Failed to parse action name: "+err.Error())
		return nil, &r
	}
	res, err := c.a.resolver.Action(ctx, c.req.Subject, f)
	var fe *ForbiddenError
	switch {
	case err == nil:
		return res, nil
	case errors.Is(err, store.ErrNotFound):
		r := entity.ErrorResponse(entity.StatusApplicationError, missing)
		return nil, &r
	case errors.As(err, &fe):
		r := entity.ErrorResponse(entity.StatusApplicationError, fe.Error())
		return nil, &r
	default:
		c.a.log.Error("resolve component", "action", name, "err", err)
		r := entity.ErrorResponse(entity.StatusWhiskError, "Sequence failed.")
		return nil, &r
	}
}

// component runs one component activation id, blocking: a nested
// sequence or conductor in this goroutine, a primitive action through the
// controller.
func (c *composition) component(ctx context.Context, res *Resolved, payload entity.Params, cause, id string) (*entity.Activation, error) {
	if isComposition(res.Action) {
		// Not looked up: run again, it finds its own components' records,
		// and counts them against the limits.
		return c.run(ctx, res, payload, id, false, cause), nil
	}
	c.atomic++
	return c.primitive(ctx, res, payload, cause, id)
}

// primitive runs one activation id of a primitive action (a component, or
// a conductor's secondary activation), or, resuming, returns its record.
func (c *composition) primitive(ctx context.Context, res *Resolved, payload entity.Params, cause, id string) (*entity.Activation, error) {
	req := c.componentRequest(res, payload, cause, id)
	if c.resume {
		if act, err := c.a.store.GetActivation(ctx, c.req.Subject, id); err == nil {
			c.a.log.Info("a composition taken over skips a component that ran", "activationId", id, "cause", cause)
			return act, nil
		}
		// The dead controller may have published this one within the
		// bus's duplicate window: a publish id of its own gets it through.
		c.resume = false
		req.publishID = id + "." + entity.NewActivationID()[:8]
	}
	act, err := c.a.invoke(ctx, req, res, causedBySequence)
	if err != nil {
		return &entity.Activation{ActivationID: id}, err
	}
	return act, nil
}

// DerivedActivationID is the activation id of the step-th (from 0)
// activation a sequence or conductor activation parent derives: its
// components in order, and for a conductor its own secondary activations
// between them. The ids of one composition are the same in every run of
// it, so a composition taken over by another controller finds the records
// of what already ran (see composition.resume).
func DerivedActivationID(parent string, step int) string {
	h := sha256.New()
	h.Write([]byte("derived"))
	h.Write([]byte{0})
	h.Write([]byte(parent))
	h.Write([]byte{0})
	h.Write([]byte(strconv.Itoa(step)))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// componentRequest is the blocking request of one derived activation.
func (c *composition) componentRequest(res *Resolved, payload entity.Params, cause, id string) Request {
	return Request{
		Action: res.FQN, Subject: c.req.Subject, KeyExpires: c.req.KeyExpires, Payload: payload,
		Cause: cause, TransactionID: c.req.TransactionID, ActivationID: id, Accepted: time.Now(),
		Wait: res.Action.Limits.TimeoutDuration() + componentGrace,
	}
}

// componentFailure is the response of a composition whose component could
// not be run or waited for.
func componentFailure(act *entity.Activation, err error) entity.Response {
	if errors.Is(err, ErrStillRunning) {
		return entity.ErrorResponse(entity.StatusWhiskError, fmt.Sprintf("Timeout reached when retrieving activation %s for sequence component.", act.ActivationID))
	}
	return entity.ErrorResponse(entity.StatusWhiskError, "Sequence failed.")
}
