package deploy

import (
	"encoding/json"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/eventfilter"
)

// filter reads a rule's filter (issue 17): a string is a CEL expression,
// a mapping the shorthand ({exact: {type: …}}). It is compiled here, so a
// bad filter is an error of the manifest, at its line, before anything is
// deployed.
func (ps *parser) filter(e entry) json.RawMessage {
	n := resolve(e.value)
	var raw json.RawMessage
	switch {
	case isNull(n):
		return nil
	case n.Kind == yaml.ScalarNode:
		s, ok := ps.str(e)
		if !ok || strings.TrimSpace(s) == "" {
			return nil
		}
		raw, _ = json.Marshal(s)
	case n.Kind == yaml.MappingNode:
		v, ok := ps.value(n, e.path)
		if !ok {
			return nil
		}
		raw, _ = json.Marshal(v)
	default:
		ps.errorf(e.value, e.path, "must be a CEL expression (a string) or a shorthand mapping such as {exact: {type: …}}")
		return nil
	}
	c, err := eventfilter.NewCompiler()
	if err == nil {
		_, err = c.Compile(raw)
	}
	if err != nil {
		msg := err.Error()
		if fe, ok := entity.AsFieldError(err); ok {
			msg = fe.Reason
			if rest, ok := strings.CutPrefix(fe.Field, eventfilter.Field+"."); ok {
				msg = rest + ": " + msg
			}
		}
		ps.errorf(e.value, e.path, "%s", msg)
		return nil
	}
	return raw
}
