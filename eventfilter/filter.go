package eventfilter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/interpreter"

	"github.com/wispio/wisp/entity"
)

// Field is the rule field a filter error names.
const Field = "filter"

// Limits on one filter. MaxSource bounds the CEL text (also the text the
// shorthand compiles to), CostLimit the work of one evaluation in CEL's
// cost units (about one per operation and per element a comprehension or
// string function touches), so that a tenant's filter cannot burn CPU.
const (
	MaxSource = 4096
	CostLimit = 10_000
)

// Filter is a compiled rule filter.
type Filter struct {
	// cel is the CEL expression (the shorthand's translation).
	cel string
	prg cel.Program
	// guard, when set, must hold for the filter to pass (see Guard).
	guard *Guard
	// native, when set, decides the filter without CEL for inputs whose
	// values it reads are numbers (native.go).
	native []numericCmp
}

// Compiler compiles filters in one CEL environment. It is safe for
// concurrent use; make one and share it.
type Compiler struct {
	env *cel.Env
}

// NewCompiler returns a compiler whose expressions see params and event as
// maps of string to any value.
func NewCompiler() (*Compiler, error) {
	env, err := cel.NewEnv(
		cel.Variable("params", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("event", cel.MapType(cel.StringType, cel.DynType)),
		cel.CrossTypeNumericComparisons(true),
		cel.ParserExpressionSizeLimit(MaxSource),
		cel.ParserRecursionLimit(64),
	)
	if err != nil {
		return nil, fmt.Errorf("eventfilter: CEL environment: %w", err)
	}
	return &Compiler{env: env}, nil
}

// Compile compiles a rule's filter as it is stored: a JSON string holding a
// CEL expression, or a JSON object in the shorthand. nil, null and "" are
// no filter (nil Filter, no error). Errors are *entity.FieldError on
// "filter" saying where and why.
func (c *Compiler) Compile(raw json.RawMessage) (*Filter, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var expr string
	switch raw[0] {
	case '"':
		if err := json.Unmarshal(raw, &expr); err != nil {
			return nil, entity.Invalid(Field, "malformed string: %v", err)
		}
		if strings.TrimSpace(expr) == "" {
			return nil, nil
		}
	case '{':
		var err error
		if expr, err = Shorthand(raw); err != nil {
			return nil, err
		}
	default:
		return nil, entity.Invalid(Field, "must be a CEL expression (a string) or a shorthand object such as {\"exact\": {\"type\": \"…\"}}")
	}
	return c.CompileCEL(expr)
}

// CompileCEL compiles one CEL expression, which must yield a boolean.
func (c *Compiler) CompileCEL(expr string) (*Filter, error) {
	if len(expr) > MaxSource {
		return nil, entity.Invalid(Field, "the expression has %d characters, more than the limit of %d", len(expr), MaxSource)
	}
	ast, iss := c.env.Compile(expr)
	if iss != nil && iss.Err() != nil {
		return nil, issuesError(iss)
	}
	if t := ast.OutputType(); !t.IsExactType(types.BoolType) && !t.IsExactType(types.DynType) {
		return nil, entity.Invalid(Field, "must be a boolean expression; %q is of type %s", expr, t)
	}
	opts := []cel.ProgramOption{cel.EvalOptions(cel.OptOptimize)}
	if est, err := c.env.EstimateCost(ast, unknownSizes{}); err != nil || est.Max > CostLimit {
		// Not bounded by its text (a comprehension or a string function
		// over the event): track the cost of every evaluation. A filter
		// whose worst case is known to be small skips the tracking, which
		// costs more than the filter.
		opts = append(opts, cel.CostLimit(CostLimit))
	}
	prg, err := c.env.Program(ast, opts...)
	if err != nil {
		return nil, entity.Invalid(Field, "%v", err)
	}
	e := ast.NativeRep().Expr()
	return &Filter{cel: expr, prg: prg, guard: findGuard(e), native: nativeConjunction(e)}, nil
}

// unknownSizes gives CEL's static cost estimate no sizes: every list, map
// and string from the event may be as large as it gets.
type unknownSizes struct{}

func (unknownSizes) EstimateSize(checker.AstNode) *checker.SizeEstimate { return nil }

func (unknownSizes) EstimateCallCost(function, overloadID string, target *checker.AstNode, args []checker.AstNode) *checker.CallEstimate {
	return nil
}

// issuesError renders CEL's issues as one field error: "line L, column C:
// reason" for each.
func issuesError(iss *cel.Issues) error {
	errs := iss.Errors()
	parts := make([]string, 0, len(errs))
	for _, e := range errs {
		msg := e.Message
		if loc := e.Location; loc != nil && loc.Line() > 0 {
			msg = fmt.Sprintf("line %d, column %d: %s", loc.Line(), loc.Column()+1, msg)
		}
		parts = append(parts, msg)
	}
	if len(parts) == 0 {
		parts = append(parts, iss.String())
	}
	return entity.Invalid(Field, "%s", strings.Join(parts, "; "))
}

// CEL is the filter's expression: the one given, or the shorthand's
// translation.
func (f *Filter) CEL() string { return f.cel }

// Input is what filters see of one fire. Make one per fire with NewInput
// and evaluate every rule's filter on it; it is read only.
type Input struct {
	act           interpreter.Activation
	params, event map[string]any
}

// NewInput decodes params (the action's arguments) and event for the
// filters of one fire. A parameter value that is not valid JSON is left
// out.
func NewInput(params entity.Params, event *entity.EventAttributes) *Input {
	p := make(map[string]any, len(params))
	for _, kv := range params {
		var v any
		if len(kv.Value) == 0 {
			p[kv.Key] = nil
			continue
		}
		if json.Unmarshal(kv.Value, &v) == nil {
			p[kv.Key] = v
		}
	}
	ev := event.Map()
	act, _ := interpreter.NewActivation(map[string]any{"params": p, "event": ev})
	return &Input{act: act, params: p, event: ev}
}

// ErrNotBool is returned by Match when an expression yields something
// other than a boolean (possible for expressions of type dyn).
var ErrNotBool = errors.New("the filter did not yield a boolean")

// Match evaluates f on in. ctx is for the caller's tracing; the cost
// limit, not a deadline, bounds the work. An error (a missing field, a type mismatch, the
// cost limit) is a reason the event did not match; callers count it as no
// match.
func (f *Filter) Match(ctx context.Context, in *Input) (bool, error) {
	if f.native != nil {
		if match, ok := matchNative(f.native, in); ok {
			return match, nil
		}
	}
	return f.eval(in)
}

// eval runs the CEL program on in.
func (f *Filter) eval(in *Input) (bool, error) {
	out, _, err := f.prg.Eval(in.act)
	if err != nil {
		return false, err
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("%w (%s: %v)", ErrNotBool, out.Type().TypeName(), out.Value())
	}
	return b, nil
}
