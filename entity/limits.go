package entity

import "time"

// ActionLimits are the per-action limits in OpenWhisk's JSON form.
type ActionLimits struct {
	Timeout     int `json:"timeout"`     // milliseconds
	Memory      int `json:"memory"`      // megabytes
	Logs        int `json:"logs"`        // megabytes
	Concurrency int `json:"concurrency"` // activations one container may run at once
}

// TimeoutDuration is Timeout as a time.Duration.
func (l ActionLimits) TimeoutDuration() time.Duration {
	return time.Duration(l.Timeout) * time.Millisecond
}

// Range is an inclusive range with a default.
type Range struct{ Min, Default, Max int }

// SystemLimits are the platform-wide bounds; Default returns OpenWhisk's.
type SystemLimits struct {
	Timeout     Range // milliseconds
	Memory      Range // megabytes
	Logs        Range // megabytes
	Concurrency Range
	// CodeSize is the maximum size of exec.code in bytes.
	CodeSize int
	// ParamsSize is the maximum size of parameters (entity or invocation) in bytes.
	ParamsSize int
	// ResultSize is the maximum size of an activation result in bytes.
	ResultSize int
	// SequenceLength is the maximum number of components of a sequence.
	SequenceLength int
	// RulesPerTrigger is the most rules one trigger links (each rule put
	// rewrites the trigger with all its links); 0 means
	// DefaultRulesPerTrigger.
	RulesPerTrigger int
}

// DefaultRulesPerTrigger bounds the rules of one trigger. OpenWhisk names
// no limit (its trigger document is bounded by CouchDB's document size).
const DefaultRulesPerTrigger = 1000

// RuleLimit is RulesPerTrigger, or its default when unset.
func (s SystemLimits) RuleLimit() int {
	if s.RulesPerTrigger > 0 {
		return s.RulesPerTrigger
	}
	return DefaultRulesPerTrigger
}

// DefaultSystemLimits returns OpenWhisk's default system limits.
func DefaultSystemLimits() SystemLimits {
	return SystemLimits{
		Timeout:         Range{Min: 100, Default: 60_000, Max: 300_000},
		Memory:          Range{Min: 128, Default: 256, Max: 512},
		Logs:            Range{Min: 0, Default: 10, Max: 10},
		Concurrency:     Range{Min: 1, Default: 1, Max: 500},
		CodeSize:        48 << 20,
		ParamsSize:      1 << 20,
		ResultSize:      1 << 20,
		SequenceLength:  50,
		RulesPerTrigger: DefaultRulesPerTrigger,
	}
}

// Defaults returns the default action limits.
func (s SystemLimits) Defaults() ActionLimits {
	return ActionLimits{
		Timeout:     s.Timeout.Default,
		Memory:      s.Memory.Default,
		Logs:        s.Logs.Default,
		Concurrency: s.Concurrency.Default,
	}
}

// ActionLimitsPatch is the limits object as a request carries it: absent
// fields keep their current (or default) value.
type ActionLimitsPatch struct {
	Timeout     *int `json:"timeout,omitempty"`
	Memory      *int `json:"memory,omitempty"`
	Logs        *int `json:"logs,omitempty"`
	Concurrency *int `json:"concurrency,omitempty"`
}

// Apply validates p against s and returns base with p's fields applied.
func (s SystemLimits) Apply(base ActionLimits, p *ActionLimitsPatch) (ActionLimits, error) {
	if p == nil {
		return base, nil
	}
	out := base
	for _, f := range []struct {
		name string
		v    *int
		r    Range
		dst  *int
		unit string
	}{
		{"limits.timeout", p.Timeout, s.Timeout, &out.Timeout, "milliseconds"},
		{"limits.memory", p.Memory, s.Memory, &out.Memory, "MB"},
		{"limits.logs", p.Logs, s.Logs, &out.Logs, "MB"},
		{"limits.concurrency", p.Concurrency, s.Concurrency, &out.Concurrency, ""},
	} {
		if f.v == nil {
			continue
		}
		if *f.v < f.r.Min || *f.v > f.r.Max {
			return base, Invalid(f.name, "%d is outside the allowed range %d to %d %s", *f.v, f.r.Min, f.r.Max, f.unit)
		}
		*f.dst = *f.v
	}
	return out, nil
}
