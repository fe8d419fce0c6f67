package entity

import "fmt"

// MaxJSONDepth is the deepest nesting of arrays and objects that Wisp
// accepts in a JSON value from outside: request bodies (invoke, fire,
// entity puts, web actions), feed events and action results. It is far
// below what every later decoder accepts (Go's encoding/json refuses
// 10,000 levels, Python's json about 1,000), so that a value accepted at
// the door still decodes after Wisp wraps it in its own envelopes (an
// invocation on the bus, an activation record, a store's row).
const MaxJSONDepth = 512

// JSONDepth returns how deeply b nests arrays and objects: 0 for a scalar,
// 1 for {} or [1]. It does not validate b; brackets inside strings do not
// count. It stops counting at max+1, so a caller learns only that b is
// too deep without scanning further than it must.
func JSONDepth(b []byte, max int) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
			if depth > deepest {
				deepest = depth
				if deepest > max {
					return deepest
				}
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return deepest
}

// CheckJSONDepth returns a *FieldError naming field when b nests deeper
// than MaxJSONDepth.
func CheckJSONDepth(field string, b []byte) error {
	if JSONDepth(b, MaxJSONDepth) > MaxJSONDepth {
		return Invalid(field, "%s", DepthReason())
	}
	return nil
}

// DepthReason is the reason given for a value over MaxJSONDepth.
func DepthReason() string {
	return fmt.Sprintf("the JSON value nests arrays and objects deeper than the limit of %d levels", MaxJSONDepth)
}
