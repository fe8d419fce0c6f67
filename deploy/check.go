package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// serverLimits are the bounds GET /api/v1 publishes.
type serverLimits struct {
	timeout, memory, logs [2]int // min, max; ms, MB, MB
	sequenceLength        int
}

// checkServer validates what depends on the server: runtimes and limits.
func (d *Deployer) checkServer(ctx context.Context, p *Project) error {
	info, _, err := d.c.Info(ctx)
	if err != nil {
		return err
	}
	kinds, known := runtimeKinds(info.Runtimes)
	lim := limitsOf(info.Limits)
	var errs Errors
	for _, pkg := range p.Packages {
		for _, a := range pkg.Actions {
			errs = append(errs, checkAction(a, kinds, known, lim)...)
		}
		for _, s := range pkg.Sequences {
			if lim.sequenceLength > 0 && len(s.Components) > lim.sequenceLength {
				errs = append(errs, &Error{Path: s.Path + ".actions", Line: s.Line,
					Msg: fmt.Sprintf("%d actions exceed the sequence length limit of %d", len(s.Components), lim.sequenceLength)})
			}
		}
	}
	return errs.err()
}

func checkAction(a *Action, kinds map[string]bool, known []string, lim serverLimits) Errors {
	var errs Errors
	if !kindKnown(a.Kind, kinds) {
		at := a.KindAt
		if at.Path == "" {
			at = origin{a.Path + ".function", a.Line}
		}
		errs = append(errs, &Error{Path: at.Path, Line: at.Line,
			Msg: fmt.Sprintf("unknown kind %q; the server offers %s", a.Kind, strings.Join(known, ", "))})
	}
	for _, c := range []struct {
		name  string
		v     *int
		rng   [2]int
		units string
	}{
		{"timeout", a.Limits.Timeout, lim.timeout, "ms"},
		{"memorySize", a.Limits.Memory, lim.memory, "MB"},
		{"logSize", a.Limits.Logs, lim.logs, "MB"},
	} {
		if c.v == nil || c.rng[1] == 0 {
			continue
		}
		if *c.v < c.rng[0] || *c.v > c.rng[1] {
			at := a.Limits.At[c.name]
			errs = append(errs, &Error{Path: at.Path, Line: at.Line,
				Msg: fmt.Sprintf("%d is outside the allowed range %d to %d %s", *c.v, c.rng[0], c.rng[1], c.units)})
		}
	}
	return errs
}

// kindKnown accepts a kind the server lists, "family" or "family:default"
// when the family has a default, and blackbox.
func kindKnown(kind string, kinds map[string]bool) bool {
	if kind == "blackbox" || kinds[kind] {
		return true
	}
	family, version, _ := strings.Cut(kind, ":")
	return (version == "" || version == "default") && kinds[family+":default"]
}

// runtimeKinds reads the runtimes of GET /api/v1: family → [{kind, default}].
func runtimeKinds(runtimes map[string]json.RawMessage) (map[string]bool, []string) {
	kinds := map[string]bool{}
	var known []string
	for family, raw := range runtimes {
		var rs []struct {
			Kind    string `json:"kind"`
			Default bool   `json:"default"`
		}
		if json.Unmarshal(raw, &rs) != nil {
			continue
		}
		for _, r := range rs {
			kinds[r.Kind] = true
			known = append(known, r.Kind)
			if r.Default {
				kinds[family+":default"] = true
			}
		}
	}
	sort.Strings(known)
	return kinds, known
}

func limitsOf(m map[string]any) serverLimits {
	num := func(key string, div int64) int {
		var n int64
		switch v := m[key].(type) {
		case json.Number:
			n, _ = v.Int64()
		case float64:
			n = int64(v)
		}
		return int(n / div)
	}
	return serverLimits{
		timeout:        [2]int{num("min_action_duration", 1), num("max_action_duration", 1)},
		memory:         [2]int{num("min_action_memory", 1<<20), num("max_action_memory", 1<<20)},
		logs:           [2]int{num("min_action_logs", 1<<20), num("max_action_logs", 1<<20)},
		sequenceLength: num("sequence_length", 1),
	}
}
