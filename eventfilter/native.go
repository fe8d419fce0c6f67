package eventfilter

import (
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/operators"
)

// The native path: a filter that is a comparison of a constant path with
// a number (params.temp > 30), or a conjunction of such comparisons, is
// decided in Go when every value it reads is a number, which is most of
// the time and costs a few map lookups instead of a CEL evaluation. Any
// other case (a missing key, a value that is not a number) runs the CEL
// program, so the result and the error are CEL's own.

// numericCmp is one comparison of the value at a constant path with a
// number.
type numericCmp struct {
	root string
	path []string
	op   string // one of CEL's comparison operators
	lit  float64
}

// nativeConjunction returns the comparisons e is the conjunction of, or
// nil when e is anything else.
func nativeConjunction(e celast.Expr) []numericCmp {
	var out []numericCmp
	var walk func(e celast.Expr) bool
	walk = func(e celast.Expr) bool {
		if e.Kind() != celast.CallKind {
			return false
		}
		c := e.AsCall()
		args := c.Args()
		if c.FunctionName() == operators.LogicalAnd {
			for _, a := range args {
				if !walk(a) {
					return false
				}
			}
			return true
		}
		op, ok := flipped[c.FunctionName()]
		if !ok || len(args) != 2 {
			return false
		}
		if cmp, ok := numericComparison(args[0], args[1], c.FunctionName()); ok {
			out = append(out, cmp)
			return true
		}
		if cmp, ok := numericComparison(args[1], args[0], op); ok {
			out = append(out, cmp)
			return true
		}
		return false
	}
	if !walk(e) || len(out) == 0 {
		return nil
	}
	return out
}

// flipped maps each comparison operator to the one that holds with its
// operands swapped (30 < params.temp is params.temp > 30).
var flipped = map[string]string{
	operators.Less: operators.Greater, operators.LessEquals: operators.GreaterEquals,
	operators.Greater: operators.Less, operators.GreaterEquals: operators.LessEquals,
	operators.Equals: operators.Equals, operators.NotEquals: operators.NotEquals,
}

// numericComparison reads ref OP lit, ref a constant path and lit a
// number literal.
func numericComparison(ref, lit celast.Expr, op string) (numericCmp, bool) {
	key, _ := literalKey(lit)
	n, ok := key.(float64)
	if !ok {
		return numericCmp{}, false
	}
	if n >= maxExact || n <= -maxExact {
		return numericCmp{}, false // CEL compares large ints exactly; a float64 cannot
	}
	root, path, ok := constPath(ref)
	if !ok || len(path) == 0 {
		return numericCmp{}, false
	}
	return numericCmp{root: root, path: path, op: op, lit: n}, true
}

// maxExact is the largest integer every float64 up to it holds exactly.
const maxExact = 1 << 53

// matchNative decides the comparisons on in; ok is false when a value is
// missing or not a number, and CEL must decide.
func matchNative(cmps []numericCmp, in *Input) (match, ok bool) {
	match = true
	for i := range cmps {
		c := &cmps[i]
		v, found := in.Lookup(c.root, c.path)
		if !found {
			return false, false
		}
		k, comparable := Key(v)
		x, isNum := k.(float64)
		if !comparable || !isNum {
			return false, false
		}
		var holds bool
		switch c.op {
		case operators.Less:
			holds = x < c.lit
		case operators.LessEquals:
			holds = x <= c.lit
		case operators.Greater:
			holds = x > c.lit
		case operators.GreaterEquals:
			holds = x >= c.lit
		case operators.Equals:
			holds = x == c.lit
		case operators.NotEquals:
			holds = x != c.lit
		}
		// Every value is read first: a later missing one is CEL's error,
		// unless an earlier comparison is false (CEL's && is false then).
		match = match && holds
	}
	return match, true
}
