package deploy

import (
	"fmt"
	"math"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// reader walks a YAML tree, collecting errors with the path and line of each
// node instead of stopping at the first.
type reader struct {
	file string                      // "" for the manifest, else the file's name
	env  func(string) (string, bool) // looks up $VAR and ${VAR}
	errs Errors
}

func (r *reader) errorf(n *yaml.Node, path, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	r.errs = append(r.errs, &Error{File: r.file, Path: path, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// resolve follows aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// isNull tells whether n is absent or an explicit null.
func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// entry is one key of a mapping.
type entry struct {
	key   string
	keyAt *yaml.Node
	value *yaml.Node
	path  string
}

// mapping lists the entries of a mapping node; null is an empty mapping.
// Duplicate keys are errors.
func (r *reader) mapping(n *yaml.Node, path string) []entry {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		r.errorf(n, path, "must be a mapping, not %s", describe(n))
		return nil
	}
	seen := map[string]bool{}
	out := make([]entry, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := resolve(n.Content[i])
		if k.Kind != yaml.ScalarNode {
			r.errorf(k, path, "keys must be strings")
			continue
		}
		if k.Value == "<<" {
			r.errorf(k, path, "merge keys (<<) are not supported")
			continue
		}
		p := join(path, k.Value)
		if seen[k.Value] {
			r.errorf(k, p, "duplicate key")
			continue
		}
		seen[k.Value] = true
		out = append(out, entry{key: k.Value, keyAt: k, value: n.Content[i+1], path: p})
	}
	return out
}

// fields dispatches the entries of a mapping to handlers by key; keys
// without a handler are errors, naming the keys allowed.
func (r *reader) fields(n *yaml.Node, path string, handlers map[string]func(entry)) {
	for _, e := range r.mapping(n, path) {
		h, ok := handlers[e.key]
		if !ok {
			r.errorf(e.keyAt, e.path, "unknown field; expected one of %s", keyList(handlers))
			continue
		}
		h(e)
	}
}

func keyList(handlers map[string]func(entry)) string {
	keys := make([]string, 0, len(handlers))
	for k := range handlers {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return strings.Join(keys, ", ")
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "an empty document"
}

// str reads a string scalar with $VAR substitution; numbers and booleans are
// taken as their text.
func (r *reader) str(e entry) (string, bool) {
	n := resolve(e.value)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		r.errorf(e.value, e.path, "must be a string")
		return "", false
	}
	return r.subst(n, e.path)
}

// boolean reads a boolean; yes/no are accepted as wskdeploy does.
func (r *reader) boolean(e entry) (bool, bool) {
	s, ok := r.str(e)
	if !ok {
		return false, false
	}
	switch strings.ToLower(s) {
	case "true", "yes":
		return true, true
	case "false", "no":
		return false, true
	}
	r.errorf(e.value, e.path, "must be true or false, not %q", s)
	return false, false
}

// envRef matches $VAR, ${VAR} and the escape $$.
var envRef = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// subst replaces $VAR and ${VAR} in a scalar with the environment's value; a
// variable that is not set is an error (an empty secret is worse than a
// failed deploy). "$$" stands for a literal "$".
func (r *reader) subst(n *yaml.Node, path string) (string, bool) {
	ok := true
	out := envRef.ReplaceAllStringFunc(n.Value, func(m string) string {
		if m == "$$" {
			return "$"
		}
		name := strings.Trim(m, "${}")
		v, set := r.env(name)
		if !set {
			r.errorf(n, path, "environment variable $%s is not set", name)
			ok = false
		}
		return v
	})
	return out, ok
}

// value converts a YAML value to JSON-ready Go values (string, int64,
// float64, bool, nil, map[string]any, []any), substituting variables in
// strings.
func (r *reader) value(n *yaml.Node, path string) (any, bool) {
	n = resolve(n)
	if n == nil {
		return nil, true
	}
	switch n.Kind {
	case yaml.MappingNode:
		out := map[string]any{}
		ok := true
		for _, e := range r.mapping(n, path) {
			v, vok := r.value(e.value, e.path)
			out[e.key], ok = v, ok && vok
		}
		return out, ok
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		ok := true
		for i, c := range n.Content {
			v, vok := r.value(c, fmt.Sprintf("%s[%d]", path, i))
			out, ok = append(out, v), ok && vok
		}
		return out, ok
	case yaml.ScalarNode:
		return r.scalar(n, path)
	}
	r.errorf(n, path, "unsupported YAML node")
	return nil, false
}

func (r *reader) scalar(n *yaml.Node, path string) (any, bool) {
	switch n.Tag {
	case "!!null":
		return nil, true
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			r.errorf(n, path, "invalid boolean %q", n.Value)
			return nil, false
		}
		return b, true
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			r.errorf(n, path, "invalid integer %q", n.Value)
			return nil, false
		}
		return i, true
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			r.errorf(n, path, "invalid number %q (JSON has no infinity or NaN)", n.Value)
			return nil, false
		}
		return f, true
	}
	return r.subst(n, path)
}
