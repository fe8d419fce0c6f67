package feeds

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/wispio/wisp/catalog"
)

// Parameter types of a Param. The checks of Params.Validate are the
// generic ones, as lenient as the wsk CLI's encodings need (`wsk -p n 5`
// sends a number, `-p b true` a boolean, `-p o '{...}'` may send a string);
// a connector refines them (URL schemes, cron syntax, ranges).
const (
	// TypeString: a JSON string (a number or boolean is taken in its JSON
	// form where the connector accepts it).
	TypeString = "string"
	// TypeURL and TypeDuration are strings that hold a URL, a duration.
	TypeURL      = "url"
	TypeDuration = "duration"
	// TypeInteger: a whole JSON number, or a string holding one.
	TypeInteger = "integer"
	// TypeNumber: a JSON number, or a string holding one.
	TypeNumber = "number"
	// TypeBoolean: true or false, also as a string ("true", "false").
	TypeBoolean = "boolean"
	// TypeObject: a JSON object, or a string (holding one, or a text the
	// connector wraps).
	TypeObject = "object"
	// TypeArray: a JSON array, or a string with its items separated by
	// commas.
	TypeArray = "array"
	// TypeDate: an RFC 3339 date as a string, or Unix milliseconds.
	TypeDate = "date"
)

// Param declares one parameter of a feed: what it is called, what it
// holds, whether it must be given, and whether it is a credential. A
// connector declares its parameters once (see Declarer); the declaration
// drives the generic validation (Params.Validate), READ's redaction
// (Redacted), the sealing of secrets in the store, the catalogue's
// "parameters" annotation and the README's tables.
type Param struct {
	Name string
	// Type is one of the Type constants.
	Type string
	// Required: CREATE fails without it (null and "" count as absent).
	Required bool
	// Default is the value used when the parameter is absent (nil: none),
	// for documentation; the connector applies it.
	Default any
	// Secret marks a credential: sealed in the store, "********" in READ.
	Secret bool
	// BindTime marks a parameter usually bound to a package binding
	// (credentials, server addresses), OpenWhisk's bindTime.
	BindTime bool
	// Doc says what it is, in one sentence; it ends up in the catalogue
	// annotation and the README table.
	Doc string
}

// Params is a feed's declared parameters, in the order they are
// documented.
type Params []Param

// Declarer is implemented by providers that declare their feeds'
// parameters. The Manager uses the declaration to redact READ answers and
// to seal credentials: a parameter declared Secret, or not declared at
// all, is treated as a secret (so is every parameter of a provider that
// declares nothing).
type Declarer interface {
	// Params returns the declaration of one of Feeds().
	Params(feed string) Params
}

// ParamError is a parameter that fails a declared check. It is
// ErrInvalid, and its message names the parameter: "topic: required",
// "qos: must be an integer". It never repeats the value.
type ParamError struct {
	Name   string
	Reason string
	// Missing: a required parameter is absent.
	Missing bool
}

func (e *ParamError) Error() string        { return e.Name + ": " + e.Reason }
func (e *ParamError) Is(target error) bool { return target == ErrInvalid }

// Lookup returns the declaration of name.
func (ps Params) Lookup(name string) (Param, bool) {
	for _, p := range ps {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// Secret reports whether name is declared a credential.
func (ps Params) Secret(name string) bool {
	p, ok := ps.Lookup(name)
	return ok && p.Secret
}

// Validate runs the declared checks on params, in declaration order: every
// required parameter is given, and every given one has its declared type
// (null counts as absent). Parameters not declared are left to the
// connector, as are the checks particular to one (syntax, ranges,
// combinations). The error is a *ParamError.
func (ps Params) Validate(params map[string]json.RawMessage) error {
	for _, p := range ps {
		raw := bytes.TrimSpace(params[p.Name])
		if len(raw) == 0 || string(raw) == "null" || string(raw) == `""` {
			if p.Required {
				return &ParamError{Name: p.Name, Reason: "required", Missing: true}
			}
			continue
		}
		if reason := checkType(p.Type, raw); reason != "" {
			return &ParamError{Name: p.Name, Reason: reason}
		}
	}
	return nil
}

// checkType says why raw, a JSON value that is not null, is not of type t,
// or "" when it is.
func checkType(t string, raw []byte) string {
	var s string
	isString := raw[0] == '"' && json.Unmarshal(raw, &s) == nil
	s = strings.TrimSpace(s)
	switch t {
	case TypeString, TypeURL, TypeDuration:
		if raw[0] == '{' || raw[0] == '[' {
			return "must be a string"
		}
	case TypeInteger:
		n, ok := number(raw, isString, s)
		if !ok || n != float64(int64(n)) {
			return "must be an integer"
		}
	case TypeNumber:
		if _, ok := number(raw, isString, s); !ok {
			return "must be a number"
		}
	case TypeBoolean:
		v := string(raw)
		if isString {
			v = s
		}
		if _, err := strconv.ParseBool(v); err != nil && v != "" {
			return "must be true or false"
		}
	case TypeObject:
		if raw[0] != '{' && !isString {
			return "must be a JSON object or a string"
		}
	case TypeArray:
		if raw[0] != '[' && !isString {
			return "must be an array (or a comma separated string)"
		}
	case TypeDate:
		if _, ok := number(raw, false, ""); !ok && !isString {
			return "must be a date (RFC 3339 or Unix milliseconds)"
		}
	}
	return ""
}

// number reads a JSON number, or a string holding one.
func number(raw []byte, isString bool, s string) (float64, bool) {
	if isString {
		n, err := strconv.ParseFloat(s, 64)
		return n, err == nil
	}
	var n float64
	return n, json.Unmarshal(raw, &n) == nil
}

// Catalog returns the declaration as the catalogue's "parameters"
// annotation of a feed action: every parameter with its name, required
// flag, description and default, bindTime, and type "password" for a
// secret.
func (ps Params) Catalog() []catalog.Parameter {
	out := make([]catalog.Parameter, 0, len(ps))
	for _, p := range ps {
		cp := catalog.Parameter{Name: p.Name, Required: p.Required, BindTime: p.BindTime, Description: p.Doc, DefaultValue: p.Default}
		if p.Secret {
			cp.Type = "password"
		}
		out = append(out, cp)
	}
	return out
}

// Hint is p's Doc as the end of an error message: its first letter in
// lower case, without the final period ("cron: missing; " + Hint()).
func (p Param) Hint() string {
	doc := strings.TrimSuffix(p.Doc, ".")
	if doc == "" {
		return ""
	}
	return strings.ToLower(doc[:1]) + doc[1:]
}

// DefaultText is p's default as documentation shows it ("" when none).
func (p Param) DefaultText() string {
	if p.Default == nil {
		return ""
	}
	if s, ok := p.Default.(string); ok {
		return s
	}
	b, err := json.Marshal(p.Default)
	if err != nil {
		return fmt.Sprint(p.Default)
	}
	return string(b)
}

// Table renders the declarations of a provider's feeds as a Markdown
// table, one row per parameter and feed, in the order given; the README shows it between
// <!-- params:NAME --> markers (see the README test).
func Table(d Declarer, feeds []string) string {
	var b strings.Builder
	b.WriteString("| Feed | Parameter | Type | Required | Default | Secret | Description |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, feed := range feeds {
		for _, p := range d.Params(feed) {
			def := p.DefaultText()
			if def != "" {
				def = "`" + def + "`"
			}
			fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s | %s | %s |\n", feed, p.Name, p.Type, yes(p.Required), def, yes(p.Secret), strings.ReplaceAll(p.Doc, "|", `\|`))
		}
	}
	return b.String()
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return ""
}
