package routing

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
)

// Activator starts activations of actions by name: it loads the action,
// merges its parameters under the caller's payload and hands the invocation
// to the controller. The API's invoke and a trigger's rules both start
// activations through it.
type Activator struct {
	store store.Store
	ctrl  *Controller
}

// NewActivator returns an activator reading actions from st.
func NewActivator(st store.Store, ctrl *Controller) *Activator {
	return &Activator{store: st, ctrl: ctrl}
}

// Request asks for one activation.
type Request struct {
	// Action is the action to run.
	Action entity.FQN
	// Subject is the namespace on whose behalf it runs; APIKey its key
	// (handed only to actions annotated provide-api-key).
	Subject string
	APIKey  string
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
}

// Activate starts the activation. It returns the activation id and, when
// req.Wait is positive and the activation ended in time, its record;
// ErrStillRunning when it did not end in time; store.ErrNotFound when the
// action does not exist.
func (a *Activator) Activate(ctx context.Context, req Request) (string, *entity.Activation, error) {
	if req.ActivationID == "" {
		req.ActivationID = entity.NewActivationID()
	}
	if req.Accepted.IsZero() {
		req.Accepted = time.Now()
	}
	rec, err := a.store.Get(ctx, req.Action.Namespace, store.Actions, req.Action.Path())
	if err != nil {
		return req.ActivationID, nil, fmt.Errorf("activate %s: %w", req.Action, err)
	}
	var action entity.Action
	if err := json.Unmarshal(rec.Doc, &action); err != nil {
		return req.ActivationID, nil, fmt.Errorf("decode action %s: %w", req.Action, err)
	}
	inv := &Invocation{
		ActivationID:  req.ActivationID,
		TransactionID: req.TransactionID,
		Action:        req.Action,
		Revision:      rec.Rev,
		Subject:       req.Subject,
		Params:        RunParams(action.Parameters, req.Payload),
		Cause:         req.Cause,
		Accepted:      req.Accepted.UnixMilli(),
	}
	if action.Annotations.IsTrue("provide-api-key") {
		inv.APIKey = req.APIKey
	}
	act, err := a.ctrl.Invoke(ctx, inv, req.Wait)
	return req.ActivationID, act, err
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
