package deploy

import (
	"strconv"
	"strings"

	"github.com/wispio/wisp/client"
	"github.com/wispio/wisp/entity"
)

// archive reads a trigger's archive block: {days: N}, N from 0 (off) to
// entity.MaxArchiveDays.
func (ps *parser) archive(e entry) *client.ArchivePolicy {
	p := &client.ArchivePolicy{}
	found := false
	ps.fields(e.value, e.path, map[string]func(entry){
		"days": func(e entry) {
			s, ok := ps.str(e)
			if !ok {
				return
			}
			found = true
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 || n > entity.MaxArchiveDays {
				ps.errorf(e.value, e.path, "must be a number of days from 0 (no archive) to %d, not %q", entity.MaxArchiveDays, s)
				return
			}
			p.Days = n
		},
	})
	if !found {
		ps.errorf(e.keyAt, join(e.path, "days"), "required: the number of days the fired events are kept")
	}
	return p
}

// retry reads a rule's retry block: attempts, backoff {initial, max} as
// milliseconds or with a unit ("250ms", "2s", "1m"), onApplicationError.
// The server checks the bounds again.
func (ps *parser) retry(e entry) *client.RetryPolicy {
	p := &client.RetryPolicy{}
	delay := func(dst *int64) func(entry) {
		return func(e entry) {
			s, ok := ps.str(e)
			if !ok {
				return
			}
			m := quantity.FindStringSubmatch(s)
			factor, known := 0.0, false
			if m != nil {
				factor, known = timeUnits[strings.ToLower(m[2])]
			}
			if !known {
				ps.errorf(e.value, e.path, "must be a duration such as 500ms or 2s, not %q", s)
				return
			}
			f, _ := strconv.ParseFloat(m[1], 64)
			*dst = int64(f * factor)
		}
	}
	ps.fields(e.value, e.path, map[string]func(entry){
		"attempts": func(e entry) {
			s, ok := ps.str(e)
			if !ok {
				return
			}
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > entity.MaxRetryAttempts {
				ps.errorf(e.value, e.path, "must be a number of attempts from 1 to %d, not %q", entity.MaxRetryAttempts, s)
				return
			}
			p.Attempts = n
		},
		"backoff": func(e entry) {
			ps.fields(e.value, e.path, map[string]func(entry){
				"initial": delay(&p.Backoff.Initial),
				"max":     delay(&p.Backoff.Max),
			})
		},
		"onApplicationError": func(e entry) { p.OnApplicationError, _ = ps.boolean(e) },
	})
	if p.Attempts == 0 {
		ps.errorf(e.keyAt, join(e.path, "attempts"), "required: the number of attempts")
	}
	return p
}

// delivery puts a rule's retry, dead-letter trigger and sink into its body and
// its parts (only when set, so that a rule without them hashes as before).
func (r *resolver) delivery(d *desired, body *ruleBody, rule *Rule) {
	if rule.Retry != nil {
		body.Retry = rule.Retry
		d.parts["retry"] = rule.Retry
	}
	if rule.DeadLetter != "" {
		if dl, ok := r.trigger(rule.DeadLetter, rule.DeadLetterAt); ok {
			body.DeadLetter = dl
			d.parts["deadLetter"] = dl
		}
	}
	switch {
	case rule.Sink == "":
	case strings.HasPrefix(rule.Sink, "http://") || strings.HasPrefix(rule.Sink, "https://"):
		body.Sink = rule.Sink
		d.parts["sink"] = rule.Sink
	default:
		if t, ok := r.trigger(rule.Sink, rule.SinkAt); ok {
			body.Sink = t
			d.parts["sink"] = t
		}
	}
}
