package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/wispio/wisp/entity"
)

// Options say where a manifest's relative paths start and how variables
// resolve.
type Options struct {
	// Dir is the folder function paths are relative to: the manifest's.
	Dir string
	// Env looks up $VAR and ${VAR}; os.LookupEnv when nil.
	Env func(string) (string, bool)
	// Name is the project name when the manifest has none (project.name).
	Name string
}

// Load reads a manifest file and, when deployment is not "", the deployment
// file whose inputs override the manifest's. Function paths are relative to
// the manifest's folder; the project name defaults to that folder's name.
func Load(manifest, deployment string, env func(string) (string, bool)) (*Project, error) {
	data, err := os.ReadFile(manifest)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	dir, err := filepath.Abs(filepath.Dir(manifest))
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	p, err := Parse(data, Options{Dir: dir, Env: env, Name: filepath.Base(dir)})
	if err != nil {
		return nil, err
	}
	if deployment == "" {
		return p, nil
	}
	data, err = os.ReadFile(deployment)
	if err != nil {
		return nil, fmt.Errorf("read deployment file: %w", err)
	}
	if err := p.Override(data, filepath.Base(deployment), env); err != nil {
		return nil, err
	}
	return p, nil
}

// Parse reads a manifest. It returns Errors listing every problem found,
// each with its YAML path and line.
func Parse(data []byte, opts Options) (*Project, error) {
	if opts.Env == nil {
		opts.Env = os.LookupEnv
	}
	root, err := document(data)
	if err != nil {
		return nil, Errors{{Msg: err.Error()}}
	}
	ps := &parser{reader: reader{env: opts.Env}, dir: opts.Dir, project: &Project{}}
	ps.top(root)
	if ps.project.Name == "" {
		ps.project.Name = opts.Name
	}
	if ps.project.Name == "" {
		ps.errorf(root, "project.name", "a project needs a name (it marks what the project owns)")
	} else if err := entity.ValidateName("project.name", ps.project.Name); err != nil {
		ps.errorf(root, "project.name", "%s", reason(err))
	}
	ps.crossCheck()
	if err := ps.errs.err(); err != nil {
		return nil, err
	}
	return ps.project, nil
}

// document decodes one YAML document and returns its root mapping.
func document(data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("invalid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("invalid YAML: more than one document (line %d)", extra.Line)
	}
	if len(doc.Content) == 0 {
		return nil, errors.New("the file is empty")
	}
	return doc.Content[0], nil
}

// reason is the message of a validation error without its field.
func reason(err error) string {
	if fe, ok := entity.AsFieldError(err); ok {
		return fe.Reason
	}
	return err.Error()
}

type parser struct {
	reader
	dir     string
	project *Project
}

func (ps *parser) warn(n *yaml.Node, path, msg string) {
	ps.project.Warnings = append(ps.project.Warnings, fmt.Sprintf("%s: %s (line %d)", path, msg, n.Line))
}

// ignored accepts a documented wskdeploy field that has no effect here.
func (ps *parser) ignored(e entry) {}

func (ps *parser) top(root *yaml.Node) {
	ps.fields(root, "", map[string]func(entry){
		"project":  ps.projectBlock,
		"packages": ps.packages,
		"package":  ps.singlePackage,
		"apis":     func(e entry) { ps.apis(nil, e) },
	})
}

func (ps *parser) projectBlock(e entry) {
	ps.fields(e.value, e.path, map[string]func(entry){
		"name": func(e entry) {
			if s, ok := ps.str(e); ok {
				ps.project.Name = s
			}
		},
		"packages":    ps.packages,
		"package":     ps.singlePackage,
		"namespace":   func(e entry) { ps.warn(e.keyAt, e.path, "ignored: the namespace comes from the credentials") },
		"version":     ps.ignored,
		"license":     ps.ignored,
		"description": ps.ignored,
		"apis":        func(e entry) { ps.apis(nil, e) },
	})
}

func (ps *parser) packages(e entry) {
	for _, pe := range ps.mapping(e.value, e.path) {
		ps.pkg(pe.key, pe)
	}
}

// singlePackage is the older "package: {name: ...}" form.
func (ps *parser) singlePackage(e entry) {
	var name string
	for _, f := range ps.mapping(e.value, e.path) {
		if f.key == "name" {
			name, _ = ps.str(f)
		}
	}
	if name == "" {
		ps.errorf(e.value, join(e.path, "name"), "a package needs a name")
		return
	}
	ps.pkg(name, e)
}

func (ps *parser) checkName(at *yaml.Node, path, name string) {
	if err := entity.ValidateName("name", name); err != nil {
		ps.errorf(at, path, "%s", reason(err))
	}
}

func (ps *parser) pkg(name string, e entry) {
	ps.checkName(e.keyAt, e.path, name)
	p := &Package{origin: origin{e.path, e.keyAt.Line}, Name: name}
	ps.project.Packages = append(ps.project.Packages, p)
	ps.fields(e.value, e.path, map[string]func(entry){
		"name":    ps.ignored, // the singular form's
		"actions": func(e entry) { ps.each(e, func(n string, e entry) { p.Actions = append(p.Actions, ps.action(n, e)) }) },
		"sequences": func(e entry) {
			ps.each(e, func(n string, e entry) { p.Sequences = append(p.Sequences, ps.sequence(n, e)) })
		},
		"triggers": func(e entry) {
			ps.each(e, func(n string, e entry) { p.Triggers = append(p.Triggers, ps.trigger(n, e)) })
		},
		"rules":        func(e entry) { ps.each(e, func(n string, e entry) { p.Rules = append(p.Rules, ps.rule(n, e)) }) },
		"dependencies": func(e entry) { ps.each(e, func(n string, e entry) { ps.dependency(n, e) }) },
		"inputs":       func(e entry) { p.Inputs = ps.params(e) },
		"annotations":  func(e entry) { p.Annotations = ps.params(e) },
		"public":       func(e entry) { p.Publish, _ = ps.boolean(e) },
		"publish":      func(e entry) { p.Publish, _ = ps.boolean(e) },
		"version":      ps.ignored,
		"license":      ps.ignored,
		"description":  ps.ignored,
		"displayName":  ps.ignored,
		"namespace":    func(e entry) { ps.warn(e.keyAt, e.path, "ignored: the namespace comes from the credentials") },
		"apis":         func(e entry) { ps.apis(p, e) },
	})
	if p.IsDefault() && (len(p.Inputs) > 0 || len(p.Annotations) > 0 || p.Publish) {
		ps.errorf(e.keyAt, e.path, "the default package stands for no package: it cannot have inputs, annotations or be public")
	}
}

// each calls f for every named entry of a mapping, checking the name.
func (ps *parser) each(e entry, f func(name string, e entry)) {
	for _, c := range ps.mapping(e.value, e.path) {
		ps.checkName(c.keyAt, c.path, c.key)
		f(c.key, c)
	}
}

// dependency is a binding to another package (wskdeploy's dependencies).
func (ps *parser) dependency(name string, e entry) {
	b := &Package{origin: origin{e.path, e.keyAt.Line}, Name: name}
	ps.fields(e.value, e.path, map[string]func(entry){
		"location": func(e entry) {
			s, ok := ps.str(e)
			if !ok {
				return
			}
			if !strings.HasPrefix(s, "/") || strings.Count(s, "/") != 2 {
				ps.errorf(e.value, e.path, "must name a package as /namespace/package (GitHub locations are not supported), not %q", s)
				return
			}
			b.Bind = s
		},
		"inputs":      func(e entry) { b.Inputs = ps.params(e) },
		"annotations": func(e entry) { b.Annotations = ps.params(e) },
		"version":     ps.ignored,
	})
	if b.Bind == "" {
		ps.errorf(e.keyAt, join(e.path, "location"), "required: the package to bind, as /namespace/package")
	}
	ps.project.Packages = append(ps.project.Packages, b)
}

func (ps *parser) sequence(name string, e entry) *Sequence {
	s := &Sequence{origin: origin{e.path, e.keyAt.Line}, Name: name}
	var web *entry
	ps.fields(e.value, e.path, map[string]func(entry){
		"actions": func(e entry) {
			n := resolve(e.value)
			if n != nil && n.Kind == yaml.SequenceNode {
				for i, c := range n.Content {
					if v, ok := ps.str(entry{value: c, path: fmt.Sprintf("%s[%d]", e.path, i)}); ok {
						s.Components = append(s.Components, strings.TrimSpace(v))
					}
				}
				return
			}
			if v, ok := ps.str(e); ok {
				for _, c := range strings.Split(v, ",") {
					if c = strings.TrimSpace(c); c != "" {
						s.Components = append(s.Components, c)
					}
				}
			}
		},
		"inputs":      func(e entry) { s.Inputs = ps.params(e) },
		"annotations": func(e entry) { s.Annotations = ps.params(e) },
		"web":         func(e entry) { web = &e },
		"web-export":  func(e entry) { web = &e },
		"version":     ps.ignored,
		"description": ps.ignored,
	})
	if len(s.Components) == 0 {
		ps.errorf(e.keyAt, join(e.path, "actions"), "required: the actions of the sequence, as a list or \"a, b, c\"")
	}
	if web != nil {
		s.Annotations = ps.web(*web, s.Annotations)
	}
	return s
}

func (ps *parser) trigger(name string, e entry) *Trigger {
	t := &Trigger{origin: origin{e.path, e.keyAt.Line}, Name: name}
	feed := func(e entry) {
		if s, ok := ps.str(e); ok {
			t.Feed, t.FeedAt = s, origin{e.path, e.value.Line}
		}
	}
	ps.fields(e.value, e.path, map[string]func(entry){
		"feed":        feed,
		"source":      feed, // older wskdeploy name
		"inputs":      func(e entry) { t.Inputs = ps.params(e) },
		"annotations": func(e entry) { t.Annotations = ps.params(e) },
		"archive":     func(e entry) { t.Archive = ps.archive(e) },
		"version":     ps.ignored,
		"description": ps.ignored,
	})
	return t
}

func (ps *parser) rule(name string, e entry) *Rule {
	r := &Rule{origin: origin{e.path, e.keyAt.Line}, Name: name}
	ps.fields(e.value, e.path, map[string]func(entry){
		"trigger": func(e entry) {
			if s, ok := ps.str(e); ok {
				r.Trigger, r.TriggerAt = s, origin{e.path, e.value.Line}
			}
		},
		"action": func(e entry) {
			if s, ok := ps.str(e); ok {
				r.Action, r.ActionAt = s, origin{e.path, e.value.Line}
			}
		},
		"annotations": func(e entry) { r.Annotations = ps.params(e) },
		"filter":      func(e entry) { r.Filter = ps.filter(e) },
		"version":     ps.ignored,
		"description": ps.ignored,
		"retry":       func(e entry) { r.Retry = ps.retry(e) },
		"deadLetter": func(e entry) {
			if s, ok := ps.str(e); ok {
				r.DeadLetter, r.DeadLetterAt = s, origin{e.path, e.value.Line}
			}
		},
		"sink": func(e entry) {
			if s, ok := ps.str(e); ok {
				r.Sink, r.SinkAt = s, origin{e.path, e.value.Line}
			}
		},
	})
	if r.Trigger == "" {
		ps.errorf(e.keyAt, join(e.path, "trigger"), "required: the trigger of the rule")
	}
	if r.Action == "" {
		ps.errorf(e.keyAt, join(e.path, "action"), "required: the action of the rule")
	}
	return r
}

// crossCheck finds names declared twice where OpenWhisk has one namespace
// for them: triggers and rules of every package, and actions and sequences
// of one package.
func (ps *parser) crossCheck() {
	seen := map[string]origin{}
	claim := func(kind, name string, at origin) {
		key := kind + " " + name
		if first, dup := seen[key]; dup {
			ps.errs = append(ps.errs, &Error{Path: at.Path, Line: at.Line,
				Msg: fmt.Sprintf("%s %q is already declared at %s (line %d)", kind, name, first.Path, first.Line)})
			return
		}
		seen[key] = at
	}
	for _, p := range ps.project.Packages {
		if !p.IsDefault() {
			claim("package", p.Name, p.origin)
		}
		for _, a := range p.Actions {
			claim("action", p.qualify(a.Name), a.origin)
		}
		for _, s := range p.Sequences {
			claim("action", p.qualify(s.Name), s.origin)
		}
		for _, t := range p.Triggers {
			claim("trigger", t.Name, t.origin)
		}
		for _, r := range p.Rules {
			claim("rule", r.Name, r.origin)
		}
	}
}

// qualify renders name within p as the namespace sees it: pkg/name, or name
// in the default package.
func (p *Package) qualify(name string) string {
	if p.IsDefault() {
		return name
	}
	return p.Name + "/" + name
}

func sortStrings(s []string) { sort.Strings(s) }

// ProjectName reads only the project's name from a manifest file (project.name,
// else the folder's name), so undeploy works without the variables and
// files a full parse needs.
func ProjectName(manifest string) (string, error) {
	data, err := os.ReadFile(manifest)
	if err != nil {
		return "", fmt.Errorf("read manifest: %w", err)
	}
	root, err := document(data)
	if err != nil {
		return "", Errors{{Msg: err.Error()}}
	}
	var doc struct {
		Project struct {
			Name string `yaml:"name"`
		} `yaml:"project"`
	}
	if err := root.Decode(&doc); err != nil {
		return "", Errors{{Path: "project.name", Msg: err.Error()}}
	}
	if doc.Project.Name != "" {
		return doc.Project.Name, nil
	}
	dir, err := filepath.Abs(filepath.Dir(manifest))
	if err != nil {
		return "", fmt.Errorf("read manifest: %w", err)
	}
	return filepath.Base(dir), nil
}
