package deploy

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// kindsByExtension infers a runtime from a function file, as wskdeploy does.
var kindsByExtension = map[string]string{
	".js": "nodejs:default", ".py": "python:default", ".go": "go:default",
	".swift": "swift:default", ".php": "php:default", ".rb": "ruby:default", ".java": "java:default",
	".jar": "java:default",
}

// openWhiskRuntimes maps the versioned runtime names of OpenWhisk's
// manifests (its runtimes.json kinds) for the families Wisp offers in one
// version to that family's default: java:8 code runs on java:17, go:1.15
// sources build with the machine's Go, ruby:2.5 and php:7.4 code on Ruby 3
// and PHP 8, within what those versions keep compatible.
var openWhiskRuntimes = map[string]string{
	"java:8": "java:default", "java:11": "java:default", "java:21": "java:default",
	"go:1.11": "go:default", "go:1.12": "go:default", "go:1.13": "go:default", "go:1.15": "go:default",
	"go:1.17": "go:default", "go:1.18": "go:default", "go:1.19": "go:default", "go:1.20": "go:default",
	"go:1.21": "go:default", "go:1.22": "go:default", "go:1.23": "go:default", "go:1.24": "go:default",
	"ruby:2.5": "ruby:default", "ruby:2.6": "ruby:default", "ruby:3.1": "ruby:default", "ruby:3.3": "ruby:default",
	"php:7.3": "php:default", "php:7.4": "php:default", "php:8.0": "php:default", "php:8.1": "php:default",
	"php:8.2": "php:default", "php:8.3": "php:default",
}

// runtimeKind is the kind of a manifest's runtime name: "@" for ":", as
// wskdeploy writes versions, and OpenWhisk's versions mapped.
func runtimeKind(name string) string {
	kind := strings.Replace(name, "@", ":", 1)
	if k, ok := openWhiskRuntimes[kind]; ok {
		return k
	}
	return kind
}

func (ps *parser) action(name string, e entry) *Action {
	a := &Action{origin: origin{e.path, e.keyAt.Line}, Name: name, Limits: Limits{At: map[string]origin{}}}
	var function, code, web *entry
	runtime := func(e entry) {
		if s, ok := ps.str(e); ok {
			a.Kind, a.KindAt = runtimeKind(s), origin{e.path, e.value.Line}
		}
	}
	flag := func(key string) func(entry) {
		return func(e entry) {
			if b, ok := ps.boolean(e); ok {
				a.Annotations = a.Annotations.set(Param{origin: origin{e.path, e.value.Line}, Key: key, Value: b})
			}
		}
	}
	var annotations Params
	ps.fields(e.value, e.path, map[string]func(entry){
		"function": func(e entry) { function = &e },
		"location": func(e entry) { function = &e }, // older wskdeploy name
		"code":     func(e entry) { code = &e },
		"runtime":  runtime,
		"kind":     runtime,
		"main":     func(e entry) { a.Main, _ = ps.str(e) },
		"docker":   func(e entry) { a.Image, _ = ps.str(e) },
		"native": func(e entry) {
			ps.errorf(e.keyAt, e.path, "the Docker skeleton is not available; use runtime: native with an executable")
		},
		"inputs":      func(e entry) { a.Inputs = ps.params(e) },
		"annotations": func(e entry) { annotations = ps.params(e) },
		"limits":      func(e entry) { ps.limits(e, &a.Limits) },
		"web":         func(e entry) { web = &e },
		"web-export":  func(e entry) { web = &e },
		"raw-http":    flag("raw-http"),
		"final":       flag("final"),
		"feed":        flag("feed"),
		"outputs":     ps.ignored,
		"version":     ps.ignored,
		"description": ps.ignored,
		"displayName": ps.ignored,
	})
	for _, p := range annotations {
		a.Annotations = a.Annotations.set(p)
	}
	if web != nil {
		a.Annotations = ps.web(*web, a.Annotations)
	}
	switch {
	case function != nil && code != nil:
		ps.errorf(code.keyAt, code.path, "give either function or code, not both")
	case function != nil:
		ps.function(*function, a)
	case code != nil:
		a.Code, _ = ps.str(*code)
		if a.Kind == "" {
			ps.errorf(code.keyAt, join(e.path, "runtime"), "required with inline code")
		}
	case a.Image != "":
		a.Kind = "blackbox"
	default:
		ps.errorf(e.keyAt, join(e.path, "function"), "required: the file or folder holding the action's code")
	}
	if a.Image != "" {
		if a.Kind != "" && a.Kind != "blackbox" {
			ps.errorf(e.keyAt, join(e.path, "docker"), "a docker image runs as kind blackbox; drop runtime %q", a.Kind)
		}
		a.Kind = "blackbox"
	}
	return a
}

// function loads the action's code: a file as text (a .zip, or the
// executable of a native action, as base64), or a folder as a zip.
func (ps *parser) function(e entry, a *Action) {
	rel, ok := ps.str(e)
	if !ok {
		return
	}
	path := rel
	if !filepath.IsAbs(path) {
		path = filepath.Join(ps.dir, rel)
	}
	info, err := os.Stat(path)
	if err != nil {
		ps.errorf(e.value, e.path, "cannot read %q: %s", rel, pathError(err))
		return
	}
	if info.IsDir() {
		data, err := zipFolder(path)
		if err != nil {
			ps.errorf(e.value, e.path, "cannot zip folder %q: %s", rel, err)
			return
		}
		a.Code, a.Binary = base64.StdEncoding.EncodeToString(data), true
		if a.Kind == "" {
			ps.errorf(e.value, join(strings.TrimSuffix(e.path, "."+e.key), "runtime"), "required when function is a folder")
		}
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		ps.errorf(e.value, e.path, "cannot read %q: %s", rel, pathError(err))
		return
	}
	ext := strings.ToLower(filepath.Ext(path))
	if ext == ".zip" || ext == ".jar" || strings.HasPrefix(a.Kind, "native") {
		a.Code, a.Binary = base64.StdEncoding.EncodeToString(data), true
	} else {
		a.Code = string(data)
	}
	if a.Kind == "" {
		a.Kind = kindsByExtension[ext]
	}
	if a.Kind == "" {
		ps.errorf(e.value, join(strings.TrimSuffix(e.path, "."+e.key), "runtime"), "required: no runtime is known for %q files", ext)
	}
}

func pathError(err error) string {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// zipFolder archives dir with sorted entries and a fixed time, so the same
// files give the same bytes (and the same hash: an unchanged action is not
// updated).
func zipFolder(dir string) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	stamp := time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !d.IsDir() && !info.Mode().IsRegular() {
			return nil // sockets, devices; symlinks are not followed
		}
		hdr, err := zip.FileInfoHeader(info)
		if err != nil {
			return err
		}
		hdr.Name, hdr.Modified = filepath.ToSlash(rel), stamp
		if d.IsDir() {
			hdr.Name += "/"
		} else {
			hdr.Method = zip.Deflate
		}
		w, err := zw.CreateHeader(hdr)
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	}) // WalkDir visits in lexical order
	if err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// web turns web / web-export (true, yes, raw, false, no) into the
// annotations OpenWhisk reads: web-export, final, raw-http.
func (ps *parser) web(e entry, anns Params) Params {
	s, ok := ps.str(e)
	if !ok {
		return anns
	}
	at := origin{e.path, e.value.Line}
	set := func(key string, v bool) { anns = anns.set(Param{origin: at, Key: key, Value: v}) }
	switch strings.ToLower(s) {
	case "true", "yes":
		set("web-export", true)
		set("final", true)
	case "raw":
		set("web-export", true)
		set("final", true)
		set("raw-http", true)
	case "false", "no":
		set("web-export", false)
	default:
		ps.errorf(e.value, e.path, "must be true, false, yes, no or raw, not %q", s)
	}
	return anns
}

// limitUnits are the units a limit may carry, per kind of limit.
var (
	sizeUnits = map[string]float64{"": 1, "b": 1.0 / (1 << 20), "kb": 1.0 / 1024, "k": 1.0 / 1024, "mb": 1, "m": 1, "gb": 1024, "g": 1024}
	timeUnits = map[string]float64{"": 1, "ms": 1, "s": 1000, "sec": 1000, "m": 60_000, "min": 60_000}
	quantity  = regexp.MustCompile(`^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$`)
)

// limits reads timeout (ms), memorySize and logSize (MB) and concurrency.
func (ps *parser) limits(e entry, l *Limits) {
	read := func(dst **int, units map[string]float64, unitName string) func(entry) {
		return func(e entry) {
			s, ok := ps.str(e)
			if !ok {
				return
			}
			m := quantity.FindStringSubmatch(s)
			factor, known := 0.0, false
			if m != nil {
				factor, known = units[strings.ToLower(m[2])]
			}
			if !known {
				ps.errorf(e.value, e.path, "must be a number of %s, not %q", unitName, s)
				return
			}
			f, _ := strconv.ParseFloat(m[1], 64)
			v := int(f * factor)
			*dst = &v
			l.At[e.key] = origin{e.path, e.value.Line}
		}
	}
	namespaceLimit := func(e entry) {
		ps.warn(e.keyAt, e.path, "ignored: a namespace limit, not set per action")
	}
	ps.fields(e.value, e.path, map[string]func(entry){
		"timeout":               read(&l.Timeout, timeUnits, "milliseconds"),
		"memorySize":            read(&l.Memory, sizeUnits, "megabytes"),
		"logSize":               read(&l.Logs, sizeUnits, "megabytes"),
		"concurrency":           read(&l.Concurrency, map[string]float64{"": 1}, "activations"),
		"concurrentActivations": namespaceLimit,
		"userInvocationRate":    namespaceLimit,
		"codeSize":              namespaceLimit,
		"parameterSize":         namespaceLimit,
	})
}

// paramKeys are the keys of wskdeploy's long parameter form.
var paramKeys = map[string]bool{"type": true, "value": true, "default": true, "description": true, "required": true, "status": true, "schema": true, "properties": true}

// params reads inputs or annotations: "key: value", or the long form
// "key: {type, value, default, description, required}".
func (ps *parser) params(e entry) Params {
	var out Params
	for _, pe := range ps.mapping(e.value, e.path) {
		p := Param{origin: origin{pe.path, pe.keyAt.Line}, Key: pe.key}
		n := resolve(pe.value)
		if isLongForm(n) {
			ps.longParam(pe, &p)
		} else {
			p.Value, _ = ps.value(n, pe.path)
		}
		out = append(out, p)
	}
	return out
}

func isLongForm(n *yaml.Node) bool {
	if n == nil || n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		return false
	}
	hasValue := false
	for i := 0; i < len(n.Content); i += 2 {
		k := n.Content[i].Value
		if !paramKeys[k] {
			return false
		}
		hasValue = hasValue || k == "type" || k == "value" || k == "default"
	}
	return hasValue
}

func (ps *parser) longParam(pe entry, p *Param) {
	var value, def *entry
	ps.fields(pe.value, pe.path, map[string]func(entry){
		"type":        func(e entry) { p.Type, _ = ps.str(e) },
		"value":       func(e entry) { value = &e },
		"default":     func(e entry) { def = &e },
		"description": ps.ignored, "required": ps.ignored, "status": ps.ignored,
		"schema": ps.ignored, "properties": ps.ignored,
	})
	src := value
	if src == nil || isNull(src.value) {
		src = def
	}
	if src == nil {
		p.Value = zeroOf(p.Type)
	} else {
		p.Value, _ = ps.value(src.value, src.path)
	}
	if p.Type == "" {
		return
	}
	at := pe.value
	if src != nil {
		at = src.value
	}
	v, err := coerce(p.Type, p.Value)
	if err != nil {
		ps.errorf(at, pe.path, "%s", err)
		return
	}
	p.Value = v
}

// zeroOf is the value wskdeploy gives a declared parameter without value or
// default.
func zeroOf(typ string) any {
	switch typ {
	case "integer", "int":
		return int64(0)
	case "float", "number":
		return 0.0
	case "boolean", "bool":
		return false
	case "json", "object":
		return map[string]any{}
	}
	return ""
}

// coerce checks v against a declared type, converting text (as from $VAR)
// to the type.
func coerce(typ string, v any) (any, error) {
	text, isText := v.(string)
	switch typ {
	case "string", "password", "version", "scalar-unit", "scalar-unit.size", "scalar-unit.time":
		switch x := v.(type) {
		case string:
			return x, nil
		case int64, float64, bool:
			return fmt.Sprint(x), nil
		}
	case "integer", "int":
		switch x := v.(type) {
		case int64:
			return x, nil
		case float64:
			if x == float64(int64(x)) {
				return int64(x), nil
			}
		}
		if isText {
			if i, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64); err == nil {
				return i, nil
			}
		}
		return nil, fmt.Errorf("value %s is not an integer", show(v))
	case "float", "number":
		switch x := v.(type) {
		case int64:
			return float64(x), nil
		case float64:
			return x, nil
		}
		if isText {
			if f, err := strconv.ParseFloat(strings.TrimSpace(text), 64); err == nil {
				return f, nil
			}
		}
		return nil, fmt.Errorf("value %s is not a number", show(v))
	case "boolean", "bool":
		if b, ok := v.(bool); ok {
			return b, nil
		}
		if isText {
			if b, err := strconv.ParseBool(strings.TrimSpace(text)); err == nil {
				return b, nil
			}
		}
		return nil, fmt.Errorf("value %s is not a boolean", show(v))
	case "json", "object", "list", "array":
		return v, nil
	default:
		return nil, fmt.Errorf("unknown type %q; expected string, integer, float, boolean or json", typ)
	}
	return nil, fmt.Errorf("value %s is not a %s", show(v), typ)
}

// show renders a value for an error message. Text is not repeated: it may
// be a secret from the environment.
func show(v any) string {
	switch v.(type) {
	case string:
		return "(text)"
	case map[string]any:
		return "(a mapping)"
	case []any:
		return "(a list)"
	}
	return fmt.Sprint(v)
}
