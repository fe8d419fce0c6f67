package entity

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Bounds of a rule's retry policy.
const (
	MaxRetryAttempts = 20
	MinRetryBackoff  = time.Millisecond
	MaxRetryBackoff  = 10 * time.Minute
	// DefaultRetryBackoff is the initial backoff when a policy names none;
	// the maximum defaults to 32 times the initial one, within bounds.
	DefaultRetryBackoff = time.Second
)

// RetryPolicy is how often a rule's activation is attempted, and how long
// to wait between attempts. Durations are milliseconds in JSON.
type RetryPolicy struct {
	// Attempts is the number of attempts in all, the first included.
	Attempts int           `json:"attempts"`
	Backoff  BackoffPolicy `json:"backoff"`
	// OnApplicationError retries activations that end in an application
	// error too; by default only whisk internal and action developer errors
	// are retried.
	OnApplicationError bool `json:"onApplicationError,omitempty"`
}

// BackoffPolicy is an exponential backoff: Initial before the second
// attempt, doubling up to Max. Milliseconds.
type BackoffPolicy struct {
	Initial int64 `json:"initial"`
	Max     int64 `json:"max"`
}

// Delay is how long to wait after the failed attempt number attempt (from
// 1) before the next.
func (p *RetryPolicy) Delay(attempt int) time.Duration {
	d := time.Duration(p.Backoff.Initial) * time.Millisecond
	limit := time.Duration(p.Backoff.Max) * time.Millisecond
	for i := 1; i < attempt && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// Retries reports whether an activation that ended with statusCode counts
// as failed under p (and so is attempted again, then dead-lettered). A nil
// policy counts whisk and developer errors.
func (p *RetryPolicy) Retries(statusCode int) bool {
	switch statusCode {
	case StatusWhiskError, StatusDeveloperError:
		return true
	case StatusApplicationError:
		return p != nil && p.OnApplicationError
	}
	return false
}

// RuleDelivery is what a rule does with its activations beyond starting
// them: attempt again on failure and fire a dead-letter trigger after the
// last attempt. A rule without one costs a fire nothing more.
type RuleDelivery struct {
	Retry *RetryPolicy `json:"retry,omitempty"`
	// DeadLetter names a trigger of the rule's namespace ("ns/T" form of
	// FQN.String, as "/ns/T") fired with the event and the failure.
	DeadLetter string `json:"deadLetter,omitempty"`
	// Sink is where a successful activation's result goes as a CloudEvent:
	// an http(s) URL or a trigger ("/ns/T") of the rule's namespace.
	Sink string `json:"sink,omitempty"`
}

// SinkTrigger is the trigger d's sink names, reporting false when the
// sink is a URL or there is none.
func (d *RuleDelivery) SinkTrigger() (FQN, bool) {
	if d == nil || d.Sink == "" || isURL(d.Sink) {
		return FQN{}, false
	}
	f, err := ParseFQN("sink", d.Sink, "_")
	return f, err == nil
}

func isURL(s string) bool { return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") }

// Attempts is how many times an activation is attempted in all.
func (d *RuleDelivery) Attempts() int {
	if d == nil || d.Retry == nil {
		return 1
	}
	return d.Retry.Attempts
}

// Delivery returns the rule's delivery policy, nil when it has none.
func (r *Rule) Delivery() *RuleDelivery {
	if r.Retry == nil && r.DeadLetter == "" && r.Sink == "" {
		return nil
	}
	return &RuleDelivery{Retry: r.Retry, DeadLetter: r.DeadLetter, Sink: r.Sink}
}

// SetRuleDelivery records d on the link of rule in t's Rules map (a copy
// made by WithRule); nil clears it.
func (t *Trigger) SetRuleDelivery(rule FQN, d *RuleDelivery) {
	key := RuleKey(rule)
	if rr, ok := t.Rules[key]; ok {
		rr.Delivery = d
		t.Rules[key] = rr
	}
}

// applyDelivery validates and applies the retry and deadLetter fields of
// req to r: absent keeps the stored value, null clears it.
func applyDelivery(r *Rule, req *RulePut) error {
	if present(req.Retry) {
		p, err := parseRetry(req.Retry)
		if err != nil {
			return err
		}
		r.Retry = p
	} else if isNull(req.Retry) {
		r.Retry = nil
	}
	if present(req.DeadLetter) {
		var s string
		if err := json.Unmarshal(req.DeadLetter, &s); err != nil {
			return Invalid("deadLetter", "must be the name of a trigger, as a string")
		}
		r.DeadLetter = ""
		if s != "" {
			f, err := ParseFQN("deadLetter", s, r.Namespace)
			if err != nil {
				return err
			}
			switch {
			case f.Package != "":
				return Invalid("deadLetter", "a trigger cannot be in a package: %q", s)
			case f.Namespace != r.Namespace:
				return Invalid("deadLetter", "must be a trigger of the rule's namespace %q, not %q", r.Namespace, f.Namespace)
			}
			r.DeadLetter = f.String()
		}
	} else if isNull(req.DeadLetter) {
		r.DeadLetter = ""
	}
	if r.DeadLetter != "" && r.DeadLetter == r.Trigger.FQN().String() {
		return Invalid("deadLetter", "must not be the rule's own trigger %q", r.DeadLetter)
	}
	return applySink(r, req.Sink)
}

// applySink validates and applies a rule's sink: an http(s) URL with a
// host and no credentials, or a trigger of the rule's namespace other
// than its own (a loop). "" or null clears it.
func applySink(r *Rule, raw json.RawMessage) error {
	if isNull(raw) {
		r.Sink = ""
		return nil
	}
	if !present(raw) {
		return nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return Invalid("sink", "must be an http(s) URL or the name of a trigger, as a string")
	}
	switch {
	case s == "":
		r.Sink = ""
	case isURL(s):
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return Invalid("sink", "%q is not an http(s) URL with a host", s)
		}
		if u.User != nil {
			return Invalid("sink", "the URL must not hold credentials")
		}
		if len(s) > 2048 {
			return Invalid("sink", "the URL is longer than 2048 characters")
		}
		r.Sink = s
	default:
		f, err := ParseFQN("sink", s, r.Namespace)
		if err != nil {
			return err
		}
		switch {
		case f.Package != "":
			return Invalid("sink", "a trigger cannot be in a package: %q", s)
		case f.Namespace != r.Namespace:
			return Invalid("sink", "must be a trigger of the rule's namespace %q, not %q", r.Namespace, f.Namespace)
		case f == r.Trigger.FQN():
			return Invalid("sink", "must not be the rule's own trigger %q", f.String())
		}
		r.Sink = f.String()
	}
	return nil
}

func present(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && !bytes.Equal(raw, []byte("null"))
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

// parseRetry reads a retry policy: {"attempts": n, "backoff": {"initial":
// d, "max": d}, "onApplicationError": bool}, each duration milliseconds
// or a Go duration string ("250ms", "2s").
func parseRetry(raw json.RawMessage) (*RetryPolicy, error) {
	var in struct {
		Attempts *int `json:"attempts"`
		Backoff  *struct {
			Initial json.RawMessage `json:"initial"`
			Max     json.RawMessage `json:"max"`
		} `json:"backoff"`
		OnApplicationError bool `json:"onApplicationError"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, Invalid("retry", "must be an object {attempts, backoff: {initial, max}, onApplicationError}: %v", err)
	}
	if in.Attempts == nil {
		return nil, Invalid("retry.attempts", "is missing")
	}
	if *in.Attempts < 1 || *in.Attempts > MaxRetryAttempts {
		return nil, Invalid("retry.attempts", "must be between 1 and %d, not %d", MaxRetryAttempts, *in.Attempts)
	}
	p := &RetryPolicy{Attempts: *in.Attempts, OnApplicationError: in.OnApplicationError}
	initial, maxDelay := DefaultRetryBackoff, time.Duration(0)
	if in.Backoff != nil {
		var err error
		if present(in.Backoff.Initial) {
			if initial, err = parseDelay("retry.backoff.initial", in.Backoff.Initial); err != nil {
				return nil, err
			}
		}
		if present(in.Backoff.Max) {
			if maxDelay, err = parseDelay("retry.backoff.max", in.Backoff.Max); err != nil {
				return nil, err
			}
		}
	}
	if maxDelay == 0 {
		maxDelay = min(32*initial, MaxRetryBackoff)
	}
	if maxDelay < initial {
		return nil, Invalid("retry.backoff.max", "must not be below retry.backoff.initial (%s < %s)", maxDelay, initial)
	}
	p.Backoff = BackoffPolicy{Initial: initial.Milliseconds(), Max: maxDelay.Milliseconds()}
	return p, nil
}

// parseDelay reads milliseconds (a JSON number) or a Go duration string,
// within MinRetryBackoff and MaxRetryBackoff.
func parseDelay(field string, raw json.RawMessage) (time.Duration, error) {
	var d time.Duration
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if d, err = time.ParseDuration(s); err != nil {
			if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
				d = time.Duration(ms) * time.Millisecond
			} else {
				return 0, Invalid(field, "%q is not a duration (milliseconds, or such as \"500ms\", \"2s\")", s)
			}
		}
	} else {
		var ms float64
		if err := json.Unmarshal(raw, &ms); err != nil {
			return 0, Invalid(field, "must be milliseconds or a duration string such as \"2s\"")
		}
		if ms > float64(MaxRetryBackoff.Milliseconds()) {
			return 0, Invalid(field, "must be at most %s", MaxRetryBackoff)
		}
		d = time.Duration(ms * float64(time.Millisecond))
	}
	if d < MinRetryBackoff || d > MaxRetryBackoff {
		return 0, Invalid(field, "must be between %s and %s, not %s", MinRetryBackoff, MaxRetryBackoff, d)
	}
	return d.Truncate(time.Millisecond), nil
}
