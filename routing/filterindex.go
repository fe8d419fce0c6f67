package routing

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/eventfilter"
)

// RuleFilter is a rule's filter as the index caches it: compiled once
// when the trigger document that carries it is indexed, or the error that
// kept it from compiling (a stored filter this version cannot compile),
// which makes every event not match, with that reason.
type RuleFilter struct {
	// Source is the filter as stored (compact JSON).
	Source string
	filter *eventfilter.Filter
	err    error
}

// filterCompiler makes the index's one CEL environment on first use.
type filterCompiler struct {
	once     sync.Once
	compiler *eventfilter.Compiler
	err      error
}

func (c *filterCompiler) get() (*eventfilter.Compiler, error) {
	c.once.Do(func() { c.compiler, c.err = eventfilter.NewCompiler() })
	return c.compiler, c.err
}

// CompileFilter compiles a rule's filter as a rule create or update must
// (nil when raw is no filter); its error is a *entity.FieldError on
// "filter" naming the position and the reason.
func (x *RuleIndex) CompileFilter(raw json.RawMessage) (*eventfilter.Filter, error) {
	c, err := x.filters.get()
	if err != nil {
		return nil, err
	}
	return c.Compile(raw)
}

// compileFilters gives e's rules their filters from t's Rules map, reusing
// what old (the entry e replaces, or nil) compiled from the same text, so
// that linking one more rule to a trigger does not compile all others
// again.
func (x *RuleIndex) compileFilters(t *entity.Trigger, e *TriggerEntry, old *TriggerEntry) {
	var previous map[entity.FQN]*RuleFilter
	if old != nil {
		previous = make(map[entity.FQN]*RuleFilter, len(old.Rules))
		for _, r := range old.Rules {
			if r.Filter != nil {
				previous[r.Rule] = r.Filter
			}
		}
	}
	for i := range e.Rules {
		r := &e.Rules[i]
		r.ruleRef, r.actionRef = refString(r.Rule), refString(r.Action)
		raw := t.Rules[entity.RuleKey(r.Rule)].Filter
		if len(raw) == 0 {
			continue
		}
		if p := previous[r.Rule]; p != nil && p.Source == string(raw) {
			r.Filter = p
		} else {
			f, err := x.CompileFilter(raw)
			switch {
			case err != nil:
				r.Filter = &RuleFilter{Source: string(raw), err: fmt.Errorf("the stored filter does not compile: %w", err)}
			case f != nil:
				r.Filter = &RuleFilter{Source: string(raw), filter: f}
			}
		}
		if r.Filter != nil && r.Active {
			e.Filtered++
		}
	}
	e.guards = groupGuards(e.Rules)
	for i, r := range e.Rules {
		if r.Active && r.Filter != nil && r.Filter.guard() == nil {
			e.unguarded = append(e.unguarded, i)
		}
	}
	e.noMatchLogs = noMatchLogs(e.Rules)
}

// guardGroup is the active rules whose filters have a guard on one path,
// by the guard's value (see eventfilter.Guard).
type guardGroup struct {
	root    string
	path    []string
	byValue map[any][]int // value → indexes into TriggerEntry.Rules
}

// groupGuards indexes the guards of rules' filters by path and value.
func groupGuards(rules []IndexedRule) []guardGroup {
	var groups []guardGroup
	at := map[string]int{}
	for i, r := range rules {
		g := r.Filter.guard()
		if g == nil || !r.Active {
			continue
		}
		k := g.PathKey()
		n, ok := at[k]
		if !ok {
			n = len(groups)
			at[k] = n
			groups = append(groups, guardGroup{root: g.Root, path: g.Path, byValue: map[any][]int{}})
		}
		groups[n].byValue[g.Value] = append(groups[n].byValue[g.Value], i)
	}
	return groups
}

// guard is the rule filter's guard; nil when it has none, or no filter.
func (rf *RuleFilter) guard() *eventfilter.Guard {
	if rf == nil || rf.filter == nil {
		return nil
	}
	return rf.filter.Guard()
}

// guardsMet marks the rules of e whose guard in meets, so that a fire
// evaluates only their filters (and the unguarded ones): a filter whose
// guard fails cannot pass. nil when e has no guards.
func (e *TriggerEntry) guardsMet(in *eventfilter.Input) []bool {
	if len(e.guards) == 0 {
		return nil
	}
	met := make([]bool, len(e.Rules))
	for _, g := range e.guards {
		v, ok := in.Lookup(g.root, g.path)
		if !ok {
			continue
		}
		if key, ok := eventfilter.Key(v); ok {
			for _, i := range g.byValue[key] {
				met[i] = true
			}
		}
	}
	return met
}

// refs are the rule's and its action's names as the logs write them,
// made once when the rule is indexed.
func (r IndexedRule) refs() (rule, action string) {
	if r.ruleRef == "" {
		return refString(r.Rule), refString(r.Action)
	}
	return r.ruleRef, r.actionRef
}
