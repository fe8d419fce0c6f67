package eventfilter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/wispio/wisp/entity"
)

// maxShorthandDepth bounds the nesting of all/any/not.
const maxShorthandDepth = 16

// Shorthand translates a filter object in Knative's trigger filter
// dialect to CEL. One object holds one or more of:
//
//	{"exact":  {KEY: VALUE, …}}   every KEY equals its VALUE
//	{"prefix": {KEY: "text", …}}  every KEY is a string starting with text
//	{"suffix": {KEY: "text", …}}  every KEY is a string ending with text
//	{"all": [FILTER, …]}          every FILTER matches
//	{"any": [FILTER, …]}          at least one FILTER matches
//	{"not": FILTER}               FILTER does not match
//	{"cel": "expression"}         a CEL expression
//
// and matches when all of them do. A KEY is an event attribute ("type",
// "source", "subject", "id", "time" or an extension: event.KEY), or a
// dotted path into the parameters when it starts with "params." (also
// "event." for an attribute, to be explicit). A key that is missing does
// not match (it is not an error). VALUEs of exact are strings, numbers,
// booleans or null.
func Shorthand(raw json.RawMessage) (string, error) {
	return shorthand(Field, raw, 0)
}

func shorthand(field string, raw json.RawMessage, depth int) (string, error) {
	if depth > maxShorthandDepth {
		return "", entity.Invalid(field, "nests deeper than %d levels", maxShorthandDepth)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return "", entity.Invalid(field, "must be an object with one of exact, prefix, suffix, all, any, not, cel")
	}
	if len(obj) == 0 {
		return "", entity.Invalid(field, "is empty; give one of exact, prefix, suffix, all, any, not, cel")
	}
	ops := make([]string, 0, len(obj))
	for op := range obj {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	terms := make([]string, 0, len(ops))
	for _, op := range ops {
		f := field + "." + op
		var term string
		var err error
		switch op {
		case "exact", "prefix", "suffix":
			term, err = attributes(f, op, obj[op])
		case "all", "any":
			term, err = list(f, op, obj[op], depth)
		case "not":
			term, err = shorthand(f, obj[op], depth+1)
			term = "!(" + term + ")"
		case "cel":
			var s string
			if json.Unmarshal(obj[op], &s) != nil || strings.TrimSpace(s) == "" {
				return "", entity.Invalid(f, "must be a non-empty string")
			}
			term = "(" + s + ")"
		default:
			return "", entity.Invalid(f, "unknown operator %q; use exact, prefix, suffix, all, any, not or cel", op)
		}
		if err != nil {
			return "", err
		}
		terms = append(terms, term)
	}
	return join(terms, " && "), nil
}

func list(field, op string, raw json.RawMessage, depth int) (string, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return "", entity.Invalid(field, "must be an array of filters")
	}
	if len(items) == 0 {
		return "", entity.Invalid(field, "must hold at least one filter")
	}
	terms := make([]string, len(items))
	for i, it := range items {
		t, err := shorthand(fmt.Sprintf("%s[%d]", field, i), it, depth+1)
		if err != nil {
			return "", err
		}
		terms[i] = "(" + t + ")"
	}
	sep := " && "
	if op == "any" {
		sep = " || "
	}
	return join(terms, sep), nil
}

// attributes translates the KEY: VALUE map of exact, prefix or suffix.
func attributes(field, op string, raw json.RawMessage) (string, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return "", entity.Invalid(field, "must be an object of attribute: value")
	}
	if len(m) == 0 {
		return "", entity.Invalid(field, "must name at least one attribute")
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	terms := make([]string, 0, len(keys))
	for _, k := range keys {
		f := field + "." + k
		guard, ref, err := path(f, k)
		if err != nil {
			return "", err
		}
		value, err := literal(f, op, m[k])
		if err != nil {
			return "", err
		}
		var test string
		switch op {
		case "exact":
			test = ref + " == " + value
		case "prefix":
			test = ref + ".startsWith(" + value + ")"
		case "suffix":
			test = ref + ".endsWith(" + value + ")"
		}
		if op != "exact" {
			// A value that is not a string does not match.
			test = "type(" + ref + ") == string && " + test
		}
		terms = append(terms, "("+guard+" && "+test+")")
	}
	return join(terms, " && "), nil
}

// path turns a shorthand key into a presence guard and a CEL reference:
// "type" → event["type"], "params.a.b" → params["a"]["b"].
func path(field, key string) (guard, ref string, err error) {
	root, segs := "event", []string{key}
	switch {
	case strings.HasPrefix(key, "params."):
		root, segs = "params", strings.Split(strings.TrimPrefix(key, "params."), ".")
	case strings.HasPrefix(key, "event."):
		segs = []string{strings.TrimPrefix(key, "event.")}
	}
	ref = root
	guards := make([]string, 0, len(segs))
	for i, s := range segs {
		if s == "" {
			return "", "", entity.Invalid(field, "has an empty path segment")
		}
		q := strconv.Quote(s)
		if i > 0 {
			guards = append(guards, "type("+ref+") == map")
		}
		guards = append(guards, q+" in "+ref)
		ref += "[" + q + "]"
	}
	return strings.Join(guards, " && "), ref, nil
}

// literal renders a shorthand value as a CEL literal.
func literal(field, op string, raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if op != "exact" && (len(raw) == 0 || raw[0] != '"') {
		return "", entity.Invalid(field, "the %s of a value must be a string", op)
	}
	if len(raw) == 0 {
		return "", entity.Invalid(field, "is missing a value")
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", entity.Invalid(field, "malformed string: %v", err)
		}
		return strconv.Quote(s), nil
	case 't', 'f', 'n':
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return "", entity.Invalid(field, "malformed value: %v", err)
		}
		return string(raw), nil // exactly true, false or null
	case '{', '[':
		return "", entity.Invalid(field, "must be a string, a number, a boolean or null, not an object or array")
	default:
		var n float64
		if err := json.Unmarshal(raw, &n); err != nil {
			return "", entity.Invalid(field, "malformed number: %v", err)
		}
		// JSON numbers reach filters as doubles.
		return strconv.FormatFloat(n, 'g', -1, 64) + dotZero(n), nil
	}
}

// dotZero makes an integral double literal a double in CEL ("30" → "30.0").
func dotZero(n float64) string {
	s := strconv.FormatFloat(n, 'g', -1, 64)
	if strings.ContainsAny(s, ".eE") || strings.Contains(s, "Inf") || strings.Contains(s, "NaN") {
		return ""
	}
	return ".0"
}

func join(terms []string, sep string) string {
	if len(terms) == 1 {
		return terms[0]
	}
	return strings.Join(terms, sep)
}
