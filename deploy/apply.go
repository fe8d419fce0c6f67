package deploy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/wispio/wisp/client"
	"github.com/wispio/wisp/internal/progress"
)

// ApplyError says how far a failed Apply got: what it changed, what it
// undid, and what could not be undone.
type ApplyError struct {
	Failed Change // the step that failed
	Err    error
	// Done are the steps that took effect before the failure and still
	// stand: updates and deletes, and creates when a delete failed (deletes
	// run once everything else is in place, so nothing is rolled back then).
	Done []Change
	// RolledBack are the entities this run created and deleted again.
	RolledBack []Change
	// Stuck are created entities the rollback could not delete.
	Stuck []RollbackFailure
}

// RollbackFailure is a created entity that could not be deleted again.
type RollbackFailure struct {
	Change Change
	Err    error
}

func (e *ApplyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s: %v", e.Failed.Op, e.Failed.Noun(), e.Failed.Name, e.Err)
	if len(e.RolledBack) > 0 {
		fmt.Fprintf(&b, "\nrolled back (created, then deleted again): %s", names(e.RolledBack))
	}
	for _, s := range e.Stuck {
		fmt.Fprintf(&b, "\nstill standing, rollback failed: %s %s: %v", s.Change.Noun(), s.Change.Name, s.Err)
	}
	if len(e.Done) > 0 {
		fmt.Fprintf(&b, "\nstill standing (applied, not undone): %s", names(e.Done))
	}
	if len(e.RolledBack) == 0 && len(e.Stuck) == 0 && len(e.Done) == 0 {
		b.WriteString("\nnothing was changed")
	}
	return b.String()
}

func (e *ApplyError) Unwrap() error { return e.Err }

func names(cs []Change) string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = fmt.Sprintf("%s %s %s", c.Op, c.Noun(), c.Name)
	}
	return strings.Join(out, ", ")
}

// Apply carries out a plan. When a create or update fails, the entities this
// run created are deleted again in reverse order and an *ApplyError tells
// what stands. Deletes come last, so a failing delete leaves the new state
// in place with the old entity still there.
func (d *Deployer) Apply(ctx context.Context, plan *Plan) ([]Change, error) {
	return d.ApplyReporting(ctx, plan, nil)
}

// ApplyReporting is Apply that reports each change to p as it begins
// ("[3/12] create action shop/price"); a nil p reports nothing. The
// rollback after a failure is not counted.
func (d *Deployer) ApplyReporting(ctx context.Context, plan *Plan, p *progress.Reporter) ([]Change, error) {
	p.Start(len(plan.Changes)-plan.Count(Unchanged), "apply project "+plan.Project)
	defer p.Done()
	var created, done []Change
	for _, ch := range plan.Changes {
		if ch.Op == Create || ch.Op == Update || ch.Op == Delete {
			p.Step(fmt.Sprintf("%s %s %s", ch.Op, ch.Noun(), ch.Name))
		}
		var err error
		switch ch.Op {
		case Create:
			err = d.create(ctx, plan.Namespace, ch)
		case Update:
			err = d.update(ctx, plan.Namespace, ch)
		case Delete:
			err = d.remove(ctx, plan.Namespace, ch)
		default:
			continue
		}
		if err != nil {
			ae := &ApplyError{Failed: ch, Err: err, Done: done}
			if ch.Op == Delete {
				// the new state is complete; an old entity failed to go
				ae.Done = append(created, done...)
				return nil, ae
			}
			d.rollback(ctx, plan.Namespace, created, ae)
			return nil, ae
		}
		d.log.Info("deploy", "op", ch.Op, "entity", ch.Noun(), "name", ch.Name, "project", plan.Project)
		if ch.Op == Create {
			created = append(created, ch)
		} else {
			done = append(done, ch)
		}
	}
	return append(created, done...), nil
}

// rollback deletes what this run created, newest first.
func (d *Deployer) rollback(ctx context.Context, ns string, created []Change, ae *ApplyError) {
	for i := len(created) - 1; i >= 0; i-- {
		ch := created[i]
		undo := Change{Op: Delete, Collection: ch.Collection, Name: ch.Name, want: ch.want, have: &existing{
			collection: ch.Collection, name: ch.Name, sequence: ch.want.stage == stageSequence, route: ch.want.route,
		}}
		if ch.want.feed != nil {
			undo.have.feed = ch.want.feed.action
		}
		if err := d.remove(ctx, ns, undo); err != nil {
			ae.Stuck = append(ae.Stuck, RollbackFailure{Change: ch, Err: err})
			continue
		}
		ae.RolledBack = append(ae.RolledBack, ch)
	}
}

// Undeploy deletes what a plan from PlanUndeploy lists. It stops at the
// first failure; the *ApplyError lists what was deleted before it.
func (d *Deployer) Undeploy(ctx context.Context, plan *Plan) ([]Change, error) {
	return d.Apply(ctx, plan)
}

func (d *Deployer) put(ctx context.Context, ch Change, overwrite bool) error {
	_, err := d.c.PutEntity(ctx, ch.Collection, ch.Name, ch.want.body, overwrite)
	return err
}

func (d *Deployer) create(ctx context.Context, ns string, ch Change) error {
	if ch.Collection == routeCollection {
		return d.putRoute(ctx, ns, ch)
	}
	if err := d.put(ctx, ch, false); err != nil {
		return err
	}
	if ch.want.feed == nil {
		return nil
	}
	if err := d.lifecycle(ctx, "CREATE", ch.want.feed.action, ns, ch.Name, ch.want.feed.params); err != nil {
		// the trigger without its feed is useless: take it back now
		if _, derr := d.c.Delete(ctx, client.Triggers, ch.Name); derr != nil {
			return fmt.Errorf("%w (and deleting the trigger again failed: %v)", err, derr)
		}
		return err
	}
	return nil
}

// update rewrites an entity; a trigger whose feed or inputs change is
// unregistered from its old feed and registered again.
func (d *Deployer) update(ctx context.Context, ns string, ch Change) error {
	if ch.Collection == routeCollection {
		return d.putRoute(ctx, ns, ch) // createApi replaces the same path and method
	}
	refeed := ch.Collection == client.Triggers && (ch.have.feed != "" || ch.want.feed != nil) &&
		(contains(ch.Parts, "feed") || contains(ch.Parts, "inputs") || contains(ch.Parts, "ownership"))
	if refeed && ch.have.feed != "" {
		if err := d.lifecycle(ctx, "DELETE", ch.have.feed, ns, ch.Name, nil); err != nil && !isNotFound(err) {
			return err
		}
	}
	if err := d.put(ctx, ch, true); err != nil {
		return err
	}
	if refeed && ch.want.feed != nil {
		return d.lifecycle(ctx, "CREATE", ch.want.feed.action, ns, ch.Name, ch.want.feed.params)
	}
	return nil
}

// remove deletes an entity; a trigger with a feed is unregistered first, as
// wsk trigger delete does (a feed action that no longer exists has nothing
// to unregister).
func (d *Deployer) remove(ctx context.Context, ns string, ch Change) error {
	if ch.Collection == client.Triggers && ch.have != nil && ch.have.feed != "" {
		if err := d.lifecycle(ctx, "DELETE", ch.have.feed, ns, ch.Name, nil); err != nil && !isNotFound(err) {
			return err
		}
	}
	var err error
	switch {
	case ch.Collection == routeCollection:
		return d.removeRoute(ctx, ch.have.route)
	case ch.Collection == "actions":
		_, err = d.c.DeleteAction(ctx, ch.Name)
	default:
		_, err = d.c.Delete(ctx, ch.Collection, ch.Name)
	}
	if isNotFound(err) {
		return nil // gone already: the goal is met
	}
	return err
}

// lifecycle invokes a feed action with OpenWhisk's feed protocol and waits
// for it: lifecycleEvent, triggerName (/ns/trigger), authKey and, for
// CREATE, the trigger's inputs.
func (d *Deployer) lifecycle(ctx context.Context, event, feed, ns, trigger string, inputs map[string]any) error {
	params := make(map[string]any, len(inputs)+3)
	for k, v := range inputs {
		params[k] = v
	}
	params["lifecycleEvent"] = event
	params["triggerName"] = "/" + ns + "/" + trigger
	params["authKey"] = d.authKey
	inv, _, err := d.c.InvokeAction(ctx, feed, params, true, false)
	if err != nil {
		return fmt.Errorf("feed %s %s for trigger %s: %w", feed, event, trigger, err)
	}
	if inv.Accepted {
		return fmt.Errorf("feed %s %s for trigger %s: no answer within the blocking wait (activation %s)", feed, event, trigger, inv.ActivationID)
	}
	return nil
}

func isNotFound(err error) bool {
	var apiErr *client.Error
	return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
