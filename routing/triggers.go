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

	"github.com/wispio/wisp/bus"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
)

// ErrExists means a create without overwrite found the name taken.
var ErrExists = errors.New("resource already exists")

// ActionChecker decides whether subject may start action from a rule: nil
// when it may, a *ForbiddenError when the action belongs to another
// namespace and is not shared, a *entity.FieldError on "action" when it does
// not exist. Resolver.CheckRuleAction is the implementation.
type ActionChecker func(ctx context.Context, subject string, action entity.FQN) error

// Triggers writes triggers and rules to the store and keeps the RuleIndex
// in step with every trigger document it writes. Each rule's action and
// status live in its trigger's Rules map, as in OpenWhisk.
type Triggers struct {
	store       store.Store
	index       *RuleIndex
	checkAction ActionChecker
	limits      entity.SystemLimits

	// writeMu serialises every write of a trigger or rule with the index
	// update that follows it, so the index never goes back to an older
	// document. Writes are rare; fires never take it.
	writeMu sync.Mutex
	// changed, when set, learns of every trigger document written or
	// deleted (see Announce).
	changed func(trigger entity.FQN)
}

// Announce has t publish the name of every trigger it writes or deletes on
// pub's entities topic, for the other controllers' indexes (SyncIndex).
func (t *Triggers) Announce(pub message.Publisher, log *slog.Logger) {
	t.changed = func(trigger entity.FQN) {
		payload, err := json.Marshal(trigger)
		if err == nil {
			err = pub.Publish(bus.TopicEntities, bus.NewMessage(entity.NewActivationID(), payload))
		}
		if err != nil {
			log.Error("announce a trigger change; other controllers learn it at their restart", "trigger", trigger.String(), "err", err)
		}
	}
}

// NewTriggers returns the trigger and rule writer over st and index.
func NewTriggers(st store.Store, index *RuleIndex, check ActionChecker, limits entity.SystemLimits) *Triggers {
	return &Triggers{store: st, index: index, checkAction: check, limits: limits}
}

// Index is the rule index the writer keeps.
func (t *Triggers) Index() *RuleIndex { return t.index }

// PutTrigger creates or (with overwrite) updates a trigger, keeping its
// rules. ErrExists when it exists and overwrite is false.
func (t *Triggers) PutTrigger(ctx context.Context, fqn entity.FQN, req *entity.TriggerPut, overwrite bool) (*entity.Trigger, error) {
	t.writeMu.Lock()
	defer t.writeMu.Unlock()
	existing, rev, err := forPut[entity.Trigger](ctx, t.store, fqn, store.Triggers, overwrite)
	if err != nil {
		return nil, err
	}
	tr, err := entity.BuildTrigger(fqn, req, existing, t.limits, time.Now().UnixMilli())
	if err != nil {
		return nil, err
	}
	if err := t.putTrigger(ctx, tr, rev); err != nil {
		if errors.Is(err, store.ErrConflict) && existing == nil && !overwrite {
			return nil, ErrExists
		}
		return nil, err
	}
	return tr, nil
}

// DeleteTrigger deletes a trigger and its archived events; its rules stay
// but no longer fire.
func (t *Triggers) DeleteTrigger(ctx context.Context, fqn entity.FQN) (*entity.Trigger, error) {
	t.writeMu.Lock()
	defer t.writeMu.Unlock()
	tr, rev, err := store.GetDoc[entity.Trigger](ctx, t.store, fqn.Namespace, store.Triggers, fqn.Name)
	if err != nil {
		return nil, err
	}
	if err := DeleteArchive(ctx, t.store, fqn); err != nil {
		return nil, err
	}
	if err := t.store.Delete(ctx, fqn.Namespace, store.Triggers, fqn.Name, rev); err != nil {
		return nil, fmt.Errorf("delete trigger %s: %w", fqn, err)
	}
	t.index.Delete(fqn)
	if t.changed != nil {
		t.changed(fqn)
	}
	// The events of fires accepted while the archive was deleted; best
	// effort, the trigger being gone (a trigger made anew with the name
	// prunes what is left by age).
	_ = DeleteArchive(ctx, t.store, fqn)
	return tr, nil
}

// GetRule returns a rule with its status, which is inactive when its
// trigger is gone or does not link it.
func (t *Triggers) GetRule(ctx context.Context, fqn entity.FQN) (*entity.Rule, error) {
	r, _, err := store.GetDoc[entity.Rule](ctx, t.store, fqn.Namespace, store.Rules, fqn.Name)
	if err != nil {
		return nil, err
	}
	tr, _, err := t.trigger(ctx, r.Trigger.FQN())
	if err != nil {
		return nil, err
	}
	r.Status = ruleStatus(tr, fqn)
	return r, nil
}

// PutRule creates or (with overwrite) updates a rule on behalf of subject.
// The trigger and action must exist and the action be usable by subject
// (see ActionChecker). A new rule is active; an updated one keeps its
// status, moving to its new trigger when the trigger changes.
func (t *Triggers) PutRule(ctx context.Context, subject string, fqn entity.FQN, req *entity.RulePut, overwrite bool) (*entity.Rule, error) {
	t.writeMu.Lock()
	defer t.writeMu.Unlock()
	existing, rev, err := forPut[entity.Rule](ctx, t.store, fqn, store.Rules, overwrite)
	if err != nil {
		return nil, err
	}
	r, err := entity.BuildRule(fqn, req, existing, t.limits, time.Now().UnixMilli())
	if err != nil {
		return nil, err
	}
	if _, err := t.index.CompileFilter(r.Filter); err != nil {
		return nil, err
	}
	triggerName, actionName := r.Trigger.FQN(), r.Action.FQN()
	if triggerName.Namespace != subject {
		return nil, &ForbiddenError{Resource: triggerName.Namespace + "/" + triggerName.Name}
	}
	newTrigger, newTriggerRev, err := t.trigger(ctx, triggerName)
	if err != nil {
		return nil, err
	}
	if newTrigger == nil {
		return nil, entity.Invalid("trigger", "trigger %s does not exist", triggerName)
	}
	if _, linked := newTrigger.Rules[entity.RuleKey(fqn)]; !linked && len(newTrigger.Rules) >= t.limits.RuleLimit() {
		return nil, entity.Invalid("trigger", "trigger %s already has %d rules, the most one trigger may have", triggerName, len(newTrigger.Rules))
	}
	if err := t.checkAction(ctx, subject, actionName); err != nil {
		return nil, err
	}
	if err := t.checkDeadLetter(ctx, r); err != nil {
		return nil, err
	}
	if err := t.checkSink(ctx, r); err != nil {
		return nil, err
	}
	status := entity.StatusActive
	if existing != nil {
		oldTrigger, oldRev, err := t.trigger(ctx, existing.Trigger.FQN())
		if err != nil {
			return nil, err
		}
		status = ruleStatus(oldTrigger, fqn)
		if oldTrigger != nil && oldTrigger.FQN() != triggerName {
			if err := t.putTrigger(ctx, oldTrigger.WithoutRule(fqn), oldRev); err != nil {
				return nil, err
			}
		}
	}
	if _, err := store.PutDoc(ctx, t.store, fqn.Namespace, store.Rules, fqn.Name, rev, r); err != nil {
		if errors.Is(err, store.ErrConflict) && existing == nil {
			return nil, ErrExists
		}
		return nil, fmt.Errorf("store rule %s: %w", fqn, err)
	}
	linked := newTrigger.WithRule(fqn, actionName, status).WithRuleFilter(fqn, r.Filter)
	linked.SetRuleDelivery(fqn, r.Delivery())
	if err := t.putTrigger(ctx, linked, newTriggerRev); err != nil {
		return nil, err
	}
	r.Status = status
	return r, nil
}

// DeleteRule unlinks a rule from its trigger and deletes it. As in
// OpenWhisk, an active rule may be deleted.
func (t *Triggers) DeleteRule(ctx context.Context, fqn entity.FQN) (*entity.Rule, error) {
	t.writeMu.Lock()
	defer t.writeMu.Unlock()
	r, rev, err := store.GetDoc[entity.Rule](ctx, t.store, fqn.Namespace, store.Rules, fqn.Name)
	if err != nil {
		return nil, err
	}
	tr, trRev, err := t.trigger(ctx, r.Trigger.FQN())
	if err != nil {
		return nil, err
	}
	if tr != nil {
		if _, linked := tr.Rules[entity.RuleKey(fqn)]; linked {
			if err := t.putTrigger(ctx, tr.WithoutRule(fqn), trRev); err != nil {
				return nil, err
			}
		}
	}
	if err := t.store.Delete(ctx, fqn.Namespace, store.Rules, fqn.Name, rev); err != nil {
		return nil, fmt.Errorf("delete rule %s: %w", fqn, err)
	}
	r.Status = entity.StatusInactive
	return r, nil
}

// SetRuleStatus enables or disables a rule. When it returns, fires see the
// new status. store.ErrNotFound when the rule or its trigger is missing.
func (t *Triggers) SetRuleStatus(ctx context.Context, fqn entity.FQN, status string) (*entity.Rule, error) {
	t.writeMu.Lock()
	defer t.writeMu.Unlock()
	r, _, err := store.GetDoc[entity.Rule](ctx, t.store, fqn.Namespace, store.Rules, fqn.Name)
	if err != nil {
		return nil, err
	}
	tr, trRev, err := t.trigger(ctx, r.Trigger.FQN())
	if err != nil {
		return nil, err
	}
	if tr == nil {
		return nil, fmt.Errorf("only rules with existing triggers can be activated: trigger %s: %w", r.Trigger, store.ErrNotFound)
	}
	if ruleStatus(tr, fqn) != status {
		linked := tr.WithRule(fqn, r.Action.FQN(), status).WithRuleFilter(fqn, r.Filter)
		linked.SetRuleDelivery(fqn, r.Delivery())
		if err := t.putTrigger(ctx, linked, trRev); err != nil {
			return nil, err
		}
	}
	r.Status = status
	return r, nil
}

// trigger reads a trigger document; nil (and no error) when it is missing.
func (t *Triggers) trigger(ctx context.Context, fqn entity.FQN) (*entity.Trigger, string, error) {
	tr, rev, err := store.GetDoc[entity.Trigger](ctx, t.store, fqn.Namespace, store.Triggers, fqn.Name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", nil
	}
	return tr, rev, err
}

// putTrigger stores a trigger document at revision rev and indexes it.
// The caller holds writeMu.
func (t *Triggers) putTrigger(ctx context.Context, tr *entity.Trigger, rev string) error {
	if _, err := store.PutDoc(ctx, t.store, tr.Namespace, store.Triggers, tr.Name, rev, tr); err != nil {
		return fmt.Errorf("store trigger %s: %w", tr.FQN(), err)
	}
	t.index.Put(tr)
	if t.changed != nil {
		t.changed(tr.FQN())
	}
	return nil
}

// ruleStatus is the status tr records for rule; inactive when tr is nil or
// does not link the rule.
func ruleStatus(tr *entity.Trigger, rule entity.FQN) string {
	if tr == nil {
		return entity.StatusInactive
	}
	if r, ok := tr.Rules[entity.RuleKey(rule)]; ok && r.Status == entity.StatusActive {
		return entity.StatusActive
	}
	return entity.StatusInactive
}

// forPut reads the entity a put replaces: nil and no error when there is
// none, ErrExists when there is one and overwrite is false.
func forPut[T any](ctx context.Context, st store.Store, fqn entity.FQN, c store.Collection, overwrite bool) (*T, string, error) {
	existing, rev, err := store.GetDoc[T](ctx, st, fqn.Namespace, c, fqn.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, "", nil
	case err != nil:
		return nil, "", err
	case !overwrite:
		return nil, "", ErrExists
	}
	return existing, rev, nil
}
