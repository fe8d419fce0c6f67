package routing

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/wispio/wisp/entity"
)

// continuation is what a conductor action returns to go on: the action to
// run next (absent: the composition ends), its parameters, and the state
// handed to the conductor's next activation.
type continuation struct {
	Action json.RawMessage `json:"action"`
	Params json.RawMessage `json:"params"`
	State  json.RawMessage `json:"state"`
}

// conductor runs a conductor action (OpenWhisk docs/conductors.md): it
// alternates secondary activations of the conductor with the component
// actions its continuations name, until a continuation names no action, an
// activation fails, or the limits are reached (n components and 2n+1
// secondary activations across all nesting levels, n the sequence length).
func (c *composition) conductor(ctx context.Context, res *Resolved, payload entity.Params, id string, t *trail) {
	params := payload
	for step := 0; ; step += 2 {
		if c.secondary >= 2*c.a.seqLimit+1 {
			t.response = entity.ErrorResponse(entity.StatusApplicationError, "Too many conductor activations in the composition.")
			return
		}
		c.secondary++
		act, err := c.primitive(ctx, res, params, id, DerivedActivationID(id, step))
		if err != nil {
			t.logs = append(t.logs, act.ActivationID)
			t.response = componentFailure(act, err)
			return
		}
		t.add(act, res.Action.Limits.Memory)
		if !act.Response.Success {
			return
		}
		var next continuation
		if err := json.Unmarshal(act.Response.Result, &next); err != nil {
			t.response = entity.ErrorResponse(entity.StatusApplicationError, "The conductor action did not return a JSON object.")
			return
		}
		if isAbsent(next.Action) {
			if !isAbsent(next.Params) {
				t.response = entity.NewResponse(entity.StatusSuccess, boxed(next.Params, "value").Object())
			}
			return
		}
		var name string
		if err := json.Unmarshal(next.Action, &name); err != nil {
			t.response = entity.ErrorResponse(entity.StatusApplicationError, fmt.Sprintf("Failed to parse action name from json: %s", next.Action))
			return
		}
		if c.atomic >= c.a.seqLimit {
			t.response = entity.ErrorResponse(entity.StatusApplicationError, "Too many actions in the composition.")
			return
		}
		comp, failure := c.resolveComponent(ctx, name, "Failed to resolve action with name '"+name+"' during composition.")
		if failure != nil {
			t.response = *failure
			return
		}
		cact, err := c.component(ctx, comp, boxed(next.Params, "value"), id, DerivedActivationID(id, step+1))
		if err != nil {
			t.logs = append(t.logs, cact.ActivationID)
			t.response = componentFailure(cact, err)
			return
		}
		t.add(cact, comp.Action.Limits.Memory)
		if !cact.Response.Success {
			return
		}
		out, err := entity.ParamsFromObject("result", cact.Response.Result)
		if err != nil {
			t.response = entity.ErrorResponse(entity.StatusDeveloperError, "The component result is not a JSON object.")
			return
		}
		params = out.Merge(boxed(next.State, "state"))
	}
}

// isAbsent reports whether a continuation field is missing or null.
func isAbsent(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || bytes.Equal(raw, []byte("null"))
}

// boxed turns a continuation field into parameters: an object as it is,
// any other value v as {key: v}, nothing as no parameters.
func boxed(raw json.RawMessage, key string) entity.Params {
	if isAbsent(raw) {
		return nil
	}
	if p, err := entity.ParamsFromObject(key, raw); err == nil {
		return p
	}
	return entity.Params{{Key: key, Value: raw}}
}
