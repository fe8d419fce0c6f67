package routing

import (
	"context"
	"fmt"
	"time"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/eventfilter"
)

// Rule filters at fire time (issue 17). Fire decides every active rule's
// filter before the fire is queued or anything runs: a fire that no rule
// passes writes its trigger activation at once (one log line per rule,
// saying why) and starts nothing. Otherwise the decisions travel with the
// fire (FireRequest.Filters) and run starts only the rules that passed.

// filterInput builds what the filters of one fire see: the arguments the
// actions would get (the trigger's parameters, then the payload) and the
// event's attributes.
func filterInput(req FireRequest, args entity.Params) *eventfilter.Input {
	return eventfilter.NewInput(args, req.Event)
}

// decide runs one rule's filter: "" when the event passes, else the
// reason it does not (false, or an evaluation error, which counts as no
// match).
func (rf *RuleFilter) decide(ctx context.Context, in *eventfilter.Input) string {
	if rf.err != nil {
		return rf.err.Error()
	}
	ok, err := rf.filter.Match(ctx, in)
	switch {
	case err != nil:
		return fmt.Sprintf("the filter failed (%v), which counts as no match", err)
	case !ok:
		return reasonNoMatch
	}
	return ""
}

// reasonNoMatch is why a rule whose filter yielded false did not run.
const reasonNoMatch = "the filter did not match"

// decideFilters decides the filters of entry's active rules on req,
// recording the decisions in req, and counts the active rules that pass
// (those without a filter included).
func (f *Firer) decideFilters(ctx context.Context, req *FireRequest, entry *TriggerEntry) int {
	in := filterInput(*req, entry.Parameters.Merge(req.Payload))
	met := entry.guardsMet(in)
	req.FiltersDecided, req.FilterPassed, req.FilterErrors = true, nil, nil
	matched := 0
	for i, r := range entry.Rules {
		if !r.Active {
			continue
		}
		if r.Filter == nil {
			matched++
			continue
		}
		if met != nil && !met[i] && r.Filter.guard() != nil {
			continue // its guard fails: it cannot pass
		}
		switch reason := r.Filter.decide(ctx, in); reason {
		case "":
			req.FilterPassed = append(req.FilterPassed, entity.RuleKey(r.Rule))
			matched++
		case reasonNoMatch:
		default:
			if req.FilterErrors == nil {
				req.FilterErrors = map[string]string{}
			}
			req.FilterErrors[entity.RuleKey(r.Rule)] = reason
		}
	}
	return matched
}

// decided is the reason a rule with a filter did not pass, as decided
// when the fire was accepted ("" when it passed).
func decided(req FireRequest, passed map[string]bool, r IndexedRule) string {
	key := entity.RuleKey(r.Rule)
	if passed[key] {
		return ""
	}
	if reason, ok := req.FilterErrors[key]; ok {
		return reason
	}
	return reasonNoMatch
}

// filterPass returns the test run applies to each active rule: "" to
// start it, else why it filtered the event out. Decisions taken when the
// fire was accepted win; otherwise a rule's filter is decided now, on an
// input built at most once.
func (f *Firer) filterPass(ctx context.Context, req FireRequest, entry *TriggerEntry, args entity.Params) func(int, IndexedRule) string {
	var in *eventfilter.Input
	var met []bool
	var passed map[string]bool
	if req.FiltersDecided {
		passed = make(map[string]bool, len(req.FilterPassed))
		for _, k := range req.FilterPassed {
			passed[k] = true
		}
	}
	return func(i int, r IndexedRule) string {
		switch {
		case r.Filter == nil:
			return ""
		case req.FiltersDecided:
			return decided(req, passed, r)
		}
		if in == nil {
			in = filterInput(req, args)
			met = entry.guardsMet(in)
		}
		if met != nil && !met[i] && r.Filter.guard() != nil {
			return reasonNoMatch
		}
		return r.Filter.decide(ctx, in)
	}
}

// filteredResult is the log line of a rule whose filter kept the event
// from starting its action.
func filteredResult(r IndexedRule, reason string) RuleResult {
	rule, action := refString(r.Rule), refString(r.Action)
	return RuleResult{
		StatusCode: entity.StatusApplicationError, Rule: rule, Action: action, Filtered: true,
		Error: fmt.Sprintf("Rule '%s' filtered the event out: %s; action '%s' was not activated.", rule, reason, action),
	}
}

// recordFilteredOut records a fire that no rule's filter passed: one
// trigger activation whose logs say why each rule did not start its
// action. Nothing is queued and nothing runs. With a durable sink (a
// server's write-behind store) it returns once the record is stored, so a
// feed's outbox may forget the event.
func (f *Firer) recordFilteredOut(ctx context.Context, req FireRequest, entry *TriggerEntry, id string, start time.Time) (*FireResult, error) {
	results := make([]RuleResult, len(entry.Rules))
	for i, r := range entry.Rules {
		if !r.Active {
			results[i] = inactiveResult(r)
			continue
		}
		results[i] = filteredResult(r, decided(req, nil, r))
	}
	act := f.triggerActivation(req, entry, id, start, results)
	acts := []*entity.Activation{act}
	if durable, ok := f.sink.(DurableSink); ok {
		if err := durable.WriteActivations(ctx, acts); err != nil {
			return nil, fmt.Errorf("fire trigger %s: store the trigger activation: %w", req.Trigger, err)
		}
	} else if err := f.sink.PutActivations(ctx, acts); err != nil {
		f.log.Error("store trigger activation", "activationId", id, "namespace", req.Subject, "trigger", req.Trigger.String(), "err", err)
	}
	return &FireResult{Activation: act, Rules: results}, nil
}
