package deploy

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

func parse(t *testing.T, manifest string, vars map[string]string) (*Project, error) {
	t.Helper()
	dir, err := filepath.Abs("testdata/parse")
	if err != nil {
		t.Fatal(err)
	}
	return Parse([]byte(manifest), Options{Dir: dir, Env: env(vars), Name: "fallback"})
}

func TestParseErrorsNamePathAndLine(t *testing.T) {
	for _, tc := range []struct {
		name, manifest string
		want           []string // each must appear among the errors
	}{
		{"unknown field", `
packages:
  iot:
    actions:
      alert:
        function: hello.js
        runtim: nodejs:20
`, []string{`packages.iot.actions.alert.runtim: unknown field; expected one of `, `(line 7)`}},
		{"missing function", `
packages:
  iot:
    actions:
      alert:
        runtime: nodejs:20
`, []string{`packages.iot.actions.alert.function: required: the file or folder holding the action's code (line 5)`}},
		{"function file missing", `
packages:
  iot:
    actions:
      alert:
        function: nope.js
`, []string{`packages.iot.actions.alert.function: cannot read "nope.js": no such file or directory (line 6)`}},
		{"folder without runtime", `
packages:
  p:
    actions:
      a:
        function: folder
`, []string{`packages.p.actions.a.runtime: required when function is a folder (line 6)`}},
		{"bad name", `
packages:
  p:
    actions:
      "-bad":
        function: hello.js
`, []string{`packages.p.actions.-bad: name "-bad" must start with a letter, a digit or '_' (line 5)`}},
		{"limits", `
packages:
  p:
    actions:
      a:
        function: hello.js
        limits:
          timeout: soon
`, []string{`packages.p.actions.a.limits.timeout: must be a number of milliseconds, not "soon" (line 8)`}},
		{"typed input", `
packages:
  p:
    actions:
      a:
        function: hello.js
        inputs:
          port:
            type: integer
            value: many
`, []string{`packages.p.actions.a.inputs.port: value (text) is not an integer (line 10)`}},
		{"unset variable", `
packages:
  p:
    actions:
      a:
        function: hello.js
        inputs:
          token: ${NOT_SET}
`, []string{`packages.p.actions.a.inputs.token: environment variable $NOT_SET is not set (line 8)`}},
		{"rule without action", `
packages:
  p:
    rules:
      r:
        trigger: t
`, []string{`packages.p.rules.r.action: required: the action of the rule (line 5)`}},
		{"duplicate trigger", `
packages:
  a:
    triggers:
      t: {}
  b:
    triggers:
      t: {}
`, []string{`packages.b.triggers.t: trigger "t" is already declared at packages.a.triggers.t (line 5) (line 8)`}},
		{"duplicate key", `
packages:
  p:
    actions:
      a:
        function: hello.js
      a:
        function: hello.js
`, []string{`packages.p.actions.a: duplicate key (line 7)`}},
		{"web value", `
packages:
  p:
    actions:
      a:
        function: hello.js
        web-export: sometimes
`, []string{`packages.p.actions.a.web-export: must be true, false, yes, no or raw, not "sometimes" (line 7)`}},
		{"not a mapping", `
packages:
  p:
    actions: [a, b]
`, []string{`packages.p.actions: must be a mapping, not a list (line 4)`}},
		{"sequence without actions", `
packages:
  p:
    sequences:
      s: {}
`, []string{`packages.p.sequences.s.actions: required: the actions of the sequence, as a list or "a, b, c" (line 5)`}},
		{"api method missing", `
apis:
  hello-world:
    hello:
      world:
        greeting:
          response: json
`, []string{`apis.hello-world.hello.world.greeting.method: required: the HTTP method of the route (line 6)`}},
		{"api method unknown", `
apis:
  h:
    hello:
      world:
        greeting: {method: FETCH}
`, []string{`apis.h.hello.world.greeting.method: "FETCH" is not an HTTP method the gateway routes; expected one of DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT (line 6)`}},
		{"api response unknown", `
packages:
  p:
    apis:
      h:
        hello:
          world:
            greeting: {method: get, response: xml}
`, []string{`packages.p.apis.h.hello.world.greeting.response: "xml" is not a response type; expected one of html, http, json, svg, text (line 8)`}},
		{"api unknown field", `
apis:
  h:
    hello:
      world:
        greeting: {method: GET, verb: GET}
`, []string{`apis.h.hello.world.greeting.verb: unknown field; expected one of method, response (line 6)`}},
		{"api path parameter without http", `
apis:
  h:
    books:
      "{isbn}":
        getBook: {method: GET}
`, []string{`apis.h.books.{isbn}.getBook.response: a relative path with parameters needs response: http (the action gets them as __ow_path) (line 6)`}},
		{"api base path parameter", `
apis:
  h:
    "{shop}":
      books:
        getBook: {method: GET}
`, []string{`apis.h.{shop}: a base path cannot have path parameters; only the relative path can (line 4)`}},
		{"api routed twice", `
apis:
  h:
    hello:
      world:
        greeting: {method: GET}
  h2:
    /hello:
      /world:
        other: {method: get}
`, []string{`apis.h2./hello./world.other: GET /hello/world is already routed at apis.h.hello.world.greeting (line 6) (line 10)`}},
		{"yaml syntax", "packages:\n  p: [\n", []string{`invalid YAML: line 2: did not find expected node content`}},
		{"several at once", `
packages:
  p:
    actions:
      a:
        function: hello.js
        memory: 3
      b:
        function: hello.js
        timeout: 3
`, []string{`packages.p.actions.a.memory: unknown field`, `(line 7)`, `packages.p.actions.b.timeout: unknown field`, `(line 10)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, tc.manifest, nil)
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("got %v, want Errors", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("errors\n%s\nlack %q", err, w)
				}
			}
		})
	}
}

func TestParseManifest(t *testing.T) {
	p, err := parse(t, `
project:
  name: demo
  packages:
    iot:
      inputs:
        region: eu
      actions:
        alert:
          function: hello.js
          main: handle
          web-export: true
          inputs:
            threshold: 30
            label: "${PREFIX}-alert"
            mode:
              type: string
              default: strict
            ratio:
              type: float
              value: $RATIO
          limits:
            timeout: 5 s
            memorySize: 128
            logSize: 1 MB
            concurrency: 2
          annotations:
            team: ops
        bundle:
          function: folder
          runtime: nodejs@20
      sequences:
        both:
          actions: alert, bundle
      triggers:
        reading:
          feed: /whisk.system/alarms/alarm
          inputs:
            cron: "*/5 * * * *"
      rules:
        on-reading:
          trigger: reading
          action: both
    default:
      actions:
        loose:
          code: "function main() { return {} }"
          runtime: nodejs
`, map[string]string{"PREFIX": "hot", "RATIO": "0.5"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "demo" || len(p.Packages) != 2 {
		t.Fatalf("project %q with %d packages", p.Name, len(p.Packages))
	}
	iot := p.Packages[0]
	alert := iot.Actions[0]
	if alert.Kind != "nodejs:default" || alert.Main != "handle" || !strings.Contains(alert.Code, "function main") {
		t.Errorf("alert = kind %q main %q", alert.Kind, alert.Main)
	}
	got := map[string]any{}
	for _, in := range alert.Inputs {
		got[in.Key] = in.Value
	}
	want := map[string]any{"threshold": int64(30), "label": "hot-alert", "mode": "strict", "ratio": 0.5}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("inputs = %v, want %v", got, want)
	}
	l := alert.Limits
	if *l.Timeout != 5000 || *l.Memory != 128 || *l.Logs != 1 || *l.Concurrency != 2 {
		t.Errorf("limits = %d %d %d %d", *l.Timeout, *l.Memory, *l.Logs, *l.Concurrency)
	}
	anns := map[string]any{}
	for _, a := range alert.Annotations {
		anns[a.Key] = a.Value
	}
	if anns["web-export"] != true || anns["final"] != true || anns["team"] != "ops" {
		t.Errorf("annotations = %v", anns)
	}
	bundle := iot.Actions[1]
	if bundle.Kind != "nodejs:20" || !bundle.Binary {
		t.Errorf("bundle = kind %q binary %v", bundle.Kind, bundle.Binary)
	}
	if _, err := base64.StdEncoding.DecodeString(bundle.Code); err != nil {
		t.Errorf("bundle code is not base64: %v", err)
	}
	if s := iot.Sequences[0]; !reflect.DeepEqual(s.Components, []string{"alert", "bundle"}) {
		t.Errorf("sequence components = %v", s.Components)
	}
	if tr := iot.Triggers[0]; tr.Feed != "/whisk.system/alarms/alarm" || tr.Inputs[0].Value != "*/5 * * * *" {
		t.Errorf("trigger = %+v", tr)
	}
	if r := iot.Rules[0]; r.Trigger != "reading" || r.Action != "both" {
		t.Errorf("rule = %+v", r)
	}
	if d := p.Packages[1]; !d.IsDefault() || d.Actions[0].Kind != "nodejs" {
		t.Errorf("default package = %+v", d)
	}
}

// TestRuntimeNames: OpenWhisk's versioned runtime names of the families
// Wisp offers in one version deploy as that family's default kind.
func TestRuntimeNames(t *testing.T) {
	for name, want := range map[string]string{
		"java:8": "java:default", "java@11": "java:default", "go:1.15": "go:default", "ruby:2.5": "ruby:default",
		"php:7.4": "php:default", "nodejs@20": "nodejs:20", "java:17": "java:17", "python:3": "python:3",
	} {
		p, err := parse(t, "packages:\n  p:\n    actions:\n      a:\n        code: x\n        runtime: "+name+"\n", nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Packages[0].Actions[0].Kind; got != want {
			t.Errorf("runtime %s = kind %q, want %q", name, got, want)
		}
	}
}

func TestZipFolderIsStable(t *testing.T) {
	// Zip a copy, move every mtime, zip again: leaked timestamps change the bytes.
	dir := t.TempDir()
	for _, name := range []string{"index.js", "package.json"} {
		data, err := os.ReadFile(filepath.Join("testdata/parse/folder", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "lib", "util.js"), []byte("exports.x = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := zipFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	later := time.Date(2030, 6, 15, 12, 34, 56, 0, time.UTC)
	for _, rel := range []string{"index.js", "package.json", "lib/util.js", "lib", "."} {
		if err := os.Chtimes(filepath.Join(dir, rel), later, later); err != nil {
			t.Fatal(err)
		}
	}
	b, err := zipFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("zipping the same files with other mtimes gave different bytes")
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	if want := []string{"index.js", "lib/", "lib/util.js", "package.json"}; !reflect.DeepEqual(names, want) {
		t.Errorf("entries = %q, want %q", names, want)
	}
}

func TestProjectNameDefaultsToTheFolder(t *testing.T) {
	p, err := parse(t, "packages:\n  p: {}\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "fallback" {
		t.Errorf("name = %q", p.Name)
	}
}

func TestOverride(t *testing.T) {
	manifest := `
project:
  name: demo
  packages:
    p:
      actions:
        a:
          function: hello.js
          inputs:
            greeting: hello
            port:
              type: integer
              value: 80
      triggers:
        t:
          inputs:
            source: manifest
`
	for _, tc := range []struct {
		name, deployment string
		want             map[string]any // inputs of p/a
		wantErr          string
	}{
		{"override and add", `
project:
  name: demo
  packages:
    p:
      actions:
        a:
          inputs:
            greeting: $GREETING
            port: "8080"
            extra: true
`, map[string]any{"greeting": "bonjour", "port": int64(8080), "extra": true}, ""},
		{"unknown action", `
project:
  packages:
    p:
      actions:
        b:
          inputs: {x: 1}
`, nil, `project.packages.p.actions.b: the manifest has no action "b" in package "p" (deploy.yaml line 6)`},
		{"wrong type", `
packages:
  p:
    actions:
      a:
        inputs:
          port: eighty
`, nil, `packages.p.actions.a.inputs.port: value (text) is not an integer (declared integer in the manifest at line 11) (deploy.yaml line 7)`},
		{"other project", `
project:
  name: other
`, nil, `project.name: names project "other" but the manifest is project "demo" (deploy.yaml line 3)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parse(t, manifest, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = p.Override([]byte(tc.deployment), "deploy.yaml", env(map[string]string{"GREETING": "bonjour"}))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]any{}
			for _, in := range p.Packages[0].Actions[0].Inputs {
				got[in.Key] = in.Value
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("inputs = %v, want %v", got, tc.want)
			}
		})
	}
}

// FuzzParse feeds arbitrary manifests to the parser: it must return a
// project or Errors, never panic.
func FuzzParse(f *testing.F) {
	f.Add([]byte("packages:\n  p:\n    actions:\n      a:\n        function: hello.js\n"))
	f.Add([]byte("project:\n  name: x\n  packages:\n    p:\n      triggers:\n        t: {feed: f, inputs: {a: 1}}\n      rules:\n        r: {trigger: t, action: a}\n"))
	f.Add([]byte("packages:\n  p:\n    sequences:\n      s:\n        actions: [a, b]\n    actions:\n      a: &x {function: hello.js, inputs: {k: {type: integer, value: $N}}}\n      b: *x\n"))
	dir, err := filepath.Abs("testdata/parse")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data, Options{Dir: dir, Env: env(map[string]string{"N": "1"}), Name: "fuzz"})
		var errs Errors
		if err != nil && !errors.As(err, &errs) {
			t.Fatalf("error of type %T: %v", err, err)
		}
		if err == nil && p == nil {
			t.Fatal("no project and no error")
		}
	})
}
