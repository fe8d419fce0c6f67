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
}
