package routing

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
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
// (those without a filter included). It evaluates only the filters whose
// guard the event meets and the unguarded ones: a thousand rules keyed on
// a device cost a few map lookups, not a thousand evaluations.
func (f *Firer) decideFilters(ctx context.Context, req *FireRequest, entry *TriggerEntry) int {
	in := filterInput(*req, entry.Parameters.Merge(req.Payload))
	req.FiltersDecided, req.FilterPassed, req.FilterErrors = true, nil, nil
	matched := entry.Active - entry.Filtered
	decide := func(i int) {
		r := &entry.Rules[i]
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
	for _, g := range entry.guards {
		v, ok := in.Lookup(g.root, g.path)
		if !ok {
			continue
		}
		if key, ok := eventfilter.Key(v); ok {
			for _, i := range g.byValue[key] {
				decide(i)
			}
		}
	}
	for _, i := range entry.unguarded {
		decide(i)
	}
	return matched
}

// decided is the reason a rule with a filter did not pass, as decided
// when the fire was accepted ("" when it passed).
func decided(req FireRequest, passed map[string]bool, r IndexedRule) string {
	if len(passed) == 0 && len(req.FilterErrors) == 0 {
		return reasonNoMatch
	}
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

// filteredResult is the result of a rule whose filter kept the event from
// starting its action; its Error is written by ruleLogs (formatting a
// thousand messages per fire would cost more than the filters).
func filteredResult(r IndexedRule, reason string) RuleResult {
	rule, action := r.refs()
	return RuleResult{StatusCode: entity.StatusApplicationError, Rule: rule, Action: action, Filtered: true, reason: reason}
}

// filteredMessage is the log message of one filtered rule.
func filteredMessage(r RuleResult) string {
	return fmt.Sprintf("Rule '%s' filtered the event out: %s; action '%s' was not activated.", r.Rule, r.reason, r.Action)
}

// recordFilteredOut records a fire that no rule's filter passed: one
// trigger activation whose logs say why the rules did not start their
// actions (FireResult.Rules is nil: the logs tell), the rules filtered out
// for one reason sharing a line (see groupLine). Nothing is queued and
// nothing runs, so the record goes to the sink as the invoker's do (a
// server's write-behind store: readable at once, written within a batch)
// and the caller does not wait for a disk. A trigger may have a thousand
// filtered rules and see every event: when no filter failed (the common
// case) the lines are the ones the index made once.
func (f *Firer) recordFilteredOut(ctx context.Context, req FireRequest, entry *TriggerEntry, id string, start time.Time) (*FireResult, error) {
	logs := slices.Clone(entry.noMatchLogs)
	if len(req.FilterErrors) > 0 {
		logs = filteredOutLogs(entry.Rules, func(r *IndexedRule) string { return decided(req, nil, *r) })
	}
	act := f.triggerRecord(req, entry, id, start, logs)
	if err := f.sink.PutActivations(ctx, []*entity.Activation{act}); err != nil {
		return nil, fmt.Errorf("fire trigger %s: store the trigger activation: %w", req.Trigger, err)
	}
	return &FireResult{Activation: act}, nil
}

// noMatchLogs are the log lines of a fire of rules whose filters all
// yielded false (made when the trigger is indexed).
func noMatchLogs(rules []IndexedRule) []string {
	return filteredOutLogs(rules, func(r *IndexedRule) string {
		if r.Filter != nil && r.Filter.err != nil {
			return r.Filter.err.Error()
		}
		return reasonNoMatch
	})
}

// filteredOutLogs are the log lines of a fire that none of rules passed,
// reason giving why each active one did not: one line per inactive rule,
// one per reason (where its first rule is) for the active ones.
func filteredOutLogs(rules []IndexedRule, reason func(*IndexedRule) string) []string {
	var logs []string
	type group struct {
		first *IndexedRule
		count int
		names []string // the first maxListed
		line  int      // its place in logs
	}
	groups := map[string]*group{}
	var last *group // the group of the rule before: most share one
	var lastReason string
	for i := range rules {
		r := &rules[i]
		if !r.Active {
			b, _ := json.Marshal(inactiveResult(*r))
			logs = append(logs, string(b))
			continue
		}
		why := reason(r)
		g := last
		if g == nil || why != lastReason {
			g = groups[why]
		}
		if g == nil {
			g = &group{first: r, line: len(logs)}
			groups[why] = g
			logs = append(logs, "")
		}
		last, lastReason = g, why
		g.count++
		if len(g.names) < maxListed {
			rule, _ := r.refs()
			g.names = append(g.names, rule)
		}
	}
	for why, g := range groups {
		if g.count == 1 {
			b, _ := json.Marshal(withMessage(filteredResult(*g.first, why)))
			logs[g.line] = string(b)
			continue
		}
		logs[g.line] = groupLine(g.names, g.count, why)
	}
	return logs
}

// withMessage fills in a filtered result's Error.
func withMessage(r RuleResult) RuleResult {
	if r.Error == "" {
		r.Error = filteredMessage(r)
	}
	return r
}

// ruleLogs renders a fire's rule results as its trigger activation's log
// lines, one per rule as OpenWhisk writes them, except that the rules
// filtered out for the same reason share one line listing them ("rules"),
// where the first of them would be: a trigger with a thousand filtered
// rules writes a few lines per event, not a thousand.
func ruleLogs(results []RuleResult) []string {
	byReason := map[string][]string{}
	for _, r := range results {
		if r.Filtered {
			byReason[r.reason] = append(byReason[r.reason], r.Rule)
		}
	}
	logs := make([]string, 0, len(results))
	written := map[string]bool{}
	for _, r := range results {
		line := r
		if r.Filtered {
			if written[r.reason] {
				continue
			}
			written[r.reason] = true
			if rules := byReason[r.reason]; len(rules) > 1 {
				logs = append(logs, groupLine(rules, len(rules), r.reason))
				continue
			}
			line = withMessage(line)
		}
		b, _ := json.Marshal(line)
		logs = append(logs, string(b))
	}
	return logs
}

// maxListed bounds the rule names one log line lists: writing and storing
// a thousand names (or a hundred) on every event would cost more than the
// thousand filters (see BenchmarkFilteredFire); the count says how many,
// and the trigger's rules list says which.
const maxListed = 5

// groupLine is the log line of count rules filtered out for one reason,
// as json.Marshal renders a RuleResult with Count and Rules (the first
// maxListed of rules), written by hand: rule names need no escaping
// (entity.ValidateName).
func groupLine(rules []string, count int, reason string) string {
	listed := ""
	if count > maxListed {
		listed = fmt.Sprintf(" (the first %d listed)", maxListed)
	}
	msg, _ := json.Marshal(fmt.Sprintf("%d rules filtered the event out: %s; their actions were not activated%s.", count, reason, listed))
	var b strings.Builder
	b.Grow(len(msg) + 112 + 16*min(len(rules), maxListed))
	b.WriteString(`{"statusCode":`)
	b.WriteString(strconv.Itoa(entity.StatusApplicationError))
	b.WriteString(`,"success":false,"error":`)
	b.Write(msg)
	b.WriteString(`,"rule":"","action":"","filtered":true,"count":`)
	b.WriteString(strconv.Itoa(count))
	b.WriteString(`,"rules":[`)
	for i, r := range rules[:min(len(rules), maxListed)] {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(r)
		b.WriteByte('"')
	}
	b.WriteString("]}")
	return b.String()
}
