package eventfilter

import (
	"strings"

	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/operators"
	"github.com/google/cel-go/common/types"
)

// Guard is an equality a filter cannot pass without: one of the
// top-level conjuncts of its expression of the form ref == literal, ref
// a path of constant keys into params or event ("event.type ==
// 'x'", params["device"] == "d1", the shorthand's exact). When it does
// not hold (the value differs or is missing) the filter does not pass,
// whatever the rest says, so a fire can skip evaluating the filters whose
// guard its event does not meet: many rules on one trigger are then one
// map lookup per distinct path, not one evaluation each.
type Guard struct {
	// Root is "params" or "event"; Path the keys below it.
	Root string
	Path []string
	// Value is the literal, as Key renders values (see Key).
	Value any
}

// PathKey identifies the guard's path, for grouping guards by it.
func (g *Guard) PathKey() string { return g.Root + "\x00" + strings.Join(g.Path, "\x00") }

// Guard returns the filter's guard, or nil when it has none. Filters
// with a guard are decided only when Key(value at the path) equals
// Value.
func (f *Filter) Guard() *Guard { return f.guard }

// Key normalises a value as guards compare it: numbers as float64 (CEL
// compares numbers across types), strings and booleans as they are,
// anything else (lists, maps, null) as not comparable (ok false).
func Key(v any) (any, bool) {
	switch v := v.(type) {
	case string, bool:
		return v, true
	case float64:
		return v, true
	case int64:
		return float64(v), true
	case uint64:
		return float64(v), true
	case int:
		return float64(v), true
	}
	return nil, false
}

// Lookup returns the value at a guard's path in the input.
func (in *Input) Lookup(root string, path []string) (any, bool) {
	var cur any
	switch root {
	case "params":
		cur = in.params
	case "event":
		cur = in.event
	default:
		return nil, false
	}
	for _, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// findGuard looks for a guard among the top-level conjuncts of e,
// preferring one on the event, then the first.
func findGuard(e celast.Expr) *Guard {
	var found []*Guard
	var walk func(e celast.Expr)
	walk = func(e celast.Expr) {
		if e.Kind() != celast.CallKind {
			return
		}
		c := e.AsCall()
		switch c.FunctionName() {
		case operators.LogicalAnd:
			for _, a := range c.Args() {
				walk(a)
			}
		case operators.Equals:
			args := c.Args()
			if len(args) != 2 {
				return
			}
			for _, pair := range [][2]celast.Expr{{args[0], args[1]}, {args[1], args[0]}} {
				if g := equality(pair[0], pair[1]); g != nil {
					found = append(found, g)
					return
				}
			}
		}
	}
	walk(e)
	for _, g := range found {
		if g.Root == "event" {
			return g
		}
	}
	if len(found) > 0 {
		return found[0]
	}
	return nil
}

// equality makes a guard of ref == lit when ref is a constant path and
// lit a comparable literal.
func equality(ref, lit celast.Expr) *Guard {
	key, ok := literalKey(lit)
	if !ok {
		return nil
	}
	root, path, ok := constPath(ref)
	if !ok || len(path) == 0 {
		return nil
	}
	return &Guard{Root: root, Path: path, Value: key}
}

// literalKey is the value of a string, number or boolean literal as Key
// renders it (numbers as float64); ok is false for anything else.
func literalKey(lit celast.Expr) (any, bool) {
	if lit.Kind() != celast.LiteralKind {
		return nil, false
	}
	switch l := lit.AsLiteral().(type) {
	case types.String:
		return string(l), true
	case types.Double:
		return float64(l), true
	case types.Int:
		return float64(l), true
	case types.Uint:
		return float64(l), true
	case types.Bool:
		return bool(l), true
	}
	return nil, false
}

// constPath reads params.a.b, params["a"]["b"] and mixes of the two.
func constPath(e celast.Expr) (string, []string, bool) {
	switch e.Kind() {
	case celast.IdentKind:
		if id := e.AsIdent(); id == "params" || id == "event" {
			return id, nil, true
		}
	case celast.SelectKind:
		s := e.AsSelect()
		if s.IsTestOnly() {
			return "", nil, false
		}
		root, path, ok := constPath(s.Operand())
		return root, append(path, s.FieldName()), ok
	case celast.CallKind:
		c := e.AsCall()
		if c.FunctionName() != operators.Index || len(c.Args()) != 2 || c.Args()[1].Kind() != celast.LiteralKind {
			return "", nil, false
		}
		k, ok := c.Args()[1].AsLiteral().(types.String)
		if !ok {
			return "", nil, false
		}
		root, path, ok := constPath(c.Args()[0])
		return root, append(path, string(k)), ok
	}
	return "", nil, false
}
