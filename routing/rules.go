package routing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
)

// RuleIndex maps each trigger to its rules in memory, so that a fire finds
// the actions to start with one map lookup and never scans rules. It is a
// projection of the trigger documents (where OpenWhisk keeps each rule's
// action and status): whoever writes a trigger document puts the new
// document here too (see Triggers). Safe for concurrent use; lookups take a
// read lock only.
type RuleIndex struct {
	mu       sync.RWMutex // guards triggers; an entry is immutable once stored
	triggers map[triggerKey]*TriggerEntry
	// filters compiles the rules' filters (see filterindex.go).
	filters filterCompiler
}

type triggerKey struct{ namespace, name string }

// TriggerEntry is what a fire needs of one trigger. It is never modified
// after it is stored in the index; callers must not modify it either.
type TriggerEntry struct {
	Trigger    entity.FQN
	Version    string
	Parameters entity.Params
	// Rules are all rules linked to the trigger, in rule name order.
	Rules []IndexedRule
	// Active counts the active rules.
	Active int
	// Filtered counts the active rules that have a filter.
	Filtered int
	// guards groups the guarded filters by path, unguarded lists the
	// other active filtered rules (indexes into Rules), so that a fire
	// looks at the rules its event may pass, not at all (see
	// filterindex.go).
	guards    []guardGroup
	unguarded []int
	// noMatchLogs are the log lines of a fire that no filter passed and
	// none failed on, made once (see recordFilteredOut).
	noMatchLogs []string
	// Archive, when set, keeps the trigger's fired events (see archive.go).
	Archive *entity.ArchivePolicy
}

// IndexedRule is one rule of a trigger: the action it starts and whether
// it is active.
type IndexedRule struct {
	Rule   entity.FQN
	Action entity.FQN
	Active bool
	// Filter is the rule's compiled filter; nil when it has none (see
	// filterindex.go). ruleRef and actionRef are the names as logs write
	// them (IndexedRule.refs).
	Filter             *RuleFilter
	ruleRef, actionRef string
	// Delivery is the rule's retry and dead-letter policy; nil for most.
	Delivery *entity.RuleDelivery
}

// NewRuleIndex returns an empty index.
func NewRuleIndex() *RuleIndex {
	return &RuleIndex{triggers: map[triggerKey]*TriggerEntry{}}
}

// Load adds every trigger of every namespace in st to the index.
func (x *RuleIndex) Load(ctx context.Context, st store.Store) error {
	subjects, err := st.Subjects(ctx)
	if err != nil {
		return fmt.Errorf("load rule index: list namespaces: %w", err)
	}
	for _, s := range subjects {
		recs, err := st.List(ctx, s.Namespace, store.Triggers, store.ListOptions{})
		if err != nil {
			return fmt.Errorf("load rule index: list triggers of %s: %w", s.Namespace, err)
		}
		for _, rec := range recs {
			var t entity.Trigger
			if err := json.Unmarshal(rec.Doc, &t); err != nil {
				return fmt.Errorf("load rule index: decode trigger %s/%s: %w", s.Namespace, rec.Name, err)
			}
			x.Put(&t)
		}
	}
	return nil
}

// Put replaces the entry of t's trigger with one built from the document.
func (x *RuleIndex) Put(t *entity.Trigger) {
	old, _ := x.Lookup(t.FQN())
	e := newTriggerEntry(t)
	x.compileFilters(t, e, old)
	x.mu.Lock()
	x.triggers[triggerKey{t.Namespace, t.Name}] = e
	x.mu.Unlock()
}

// Delete removes a trigger and so all its rules from the index.
func (x *RuleIndex) Delete(trigger entity.FQN) {
	x.mu.Lock()
	delete(x.triggers, triggerKey{trigger.Namespace, trigger.Name})
	x.mu.Unlock()
}

// Lookup returns the entry of a trigger, reporting false when the trigger
// does not exist.
func (x *RuleIndex) Lookup(trigger entity.FQN) (*TriggerEntry, bool) {
	x.mu.RLock()
	e, ok := x.triggers[triggerKey{trigger.Namespace, trigger.Name}]
	x.mu.RUnlock()
	return e, ok
}

// Len returns how many triggers and rules the index holds.
func (x *RuleIndex) Len() (triggers, rules int) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, e := range x.triggers {
		rules += len(e.Rules)
	}
	return len(x.triggers), rules
}

func newTriggerEntry(t *entity.Trigger) *TriggerEntry {
	e := &TriggerEntry{Trigger: t.FQN(), Version: t.Version, Parameters: t.Parameters, Rules: make([]IndexedRule, 0, len(t.Rules)), Archive: t.Archive}
	for key, r := range t.Rules {
		ns, name, _ := strings.Cut(key, "/")
		active := r.Status == entity.StatusActive
		e.Rules = append(e.Rules, IndexedRule{Rule: entity.FQN{Namespace: ns, Name: name}, Action: r.Action.FQN(), Active: active, Delivery: r.Delivery})
		if active {
			e.Active++
		}
	}
	sort.Slice(e.Rules, func(i, j int) bool { return e.Rules[i].Rule.String() < e.Rules[j].Rule.String() })
	return e
}

// RuleStatus is the status of rule on trigger as the index knows it:
// "active", or "inactive" also when the trigger or the link is gone.
func (x *RuleIndex) RuleStatus(trigger, rule entity.FQN) string {
	if e, ok := x.Lookup(trigger); ok {
		for _, r := range e.Rules {
			if r.Rule == rule && r.Active {
				return entity.StatusActive
			}
		}
	}
	return entity.StatusInactive
}

// SyncIndex applies the trigger changes other controllers announce (see
// Triggers.Announce) to x, reading each trigger again from st, until msgs
// closes or ctx ends.
func SyncIndex(ctx context.Context, x *RuleIndex, st store.Store, msgs <-chan *message.Message, log *slog.Logger) {
	for msg := range msgs {
		var f entity.FQN
		if err := json.Unmarshal(msg.Payload, &f); err != nil {
			log.Warn("drop malformed trigger change", "err", err)
			msg.Ack()
			continue
		}
		tr, _, err := store.GetDoc[entity.Trigger](ctx, st, f.Namespace, store.Triggers, f.Name)
		switch {
		case err == nil:
			x.Put(tr)
		case errors.Is(err, store.ErrNotFound):
			x.Delete(f)
		default:
			log.Error("reload a changed trigger", "trigger", f.String(), "err", err)
		}
		msg.Ack()
	}
}
