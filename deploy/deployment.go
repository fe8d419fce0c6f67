package deploy

import (
	"fmt"
	"os"
)

// Override applies a deployment file: its inputs and annotations replace or
// add to those of the manifest's packages, actions, sequences and triggers,
// key by key; a declared type in the manifest applies to the new value.
// Everything it names must exist in the manifest. file names the file in
// errors.
func (p *Project) Override(data []byte, file string, env func(string) (string, bool)) error {
	if env == nil {
		env = os.LookupEnv
	}
	root, err := document(data)
	if err != nil {
		return Errors{{File: file, Msg: err.Error()}}
	}
	o := &overrider{reader: reader{file: file, env: env}, project: p}
	o.fields(root, "", map[string]func(entry){
		"project":  o.projectBlock,
		"packages": o.packages,
	})
	return o.errs.err()
}

type overrider struct {
	reader
	project *Project
}

func (o *overrider) ignored(entry) {}

func (o *overrider) projectBlock(e entry) {
	o.fields(e.value, e.path, map[string]func(entry){
		"name": func(e entry) {
			if s, ok := o.str(e); ok && s != o.project.Name {
				o.errorf(e.value, e.path, "names project %q but the manifest is project %q", s, o.project.Name)
			}
		},
		"packages":  o.packages,
		"namespace": o.ignored, "credential": o.ignored, "apiHost": o.ignored,
		"version": o.ignored, "license": o.ignored, "description": o.ignored,
	})
}

func (o *overrider) packages(e entry) {
	for _, pe := range o.mapping(e.value, e.path) {
		var pkg *Package
		for _, p := range o.project.Packages {
			if p.Name == pe.key {
				pkg = p
			}
		}
		if pkg == nil {
			o.errorf(pe.keyAt, pe.path, "the manifest has no package %q", pe.key)
			continue
		}
		o.pkg(pe, pkg)
	}
}

// target is what a deployment entry may change.
type target struct {
	inputs, annotations *Params
}

func (o *overrider) pkg(e entry, pkg *Package) {
	find := func(kind string, lookup func(string) *target) func(entry) {
		return func(e entry) {
			for _, c := range o.mapping(e.value, e.path) {
				t := lookup(c.key)
				if t == nil {
					o.errorf(c.keyAt, c.path, "the manifest has no %s %q in package %q", kind, c.key, pkg.Name)
					continue
				}
				o.entity(c, t)
			}
		}
	}
	o.fields(e.value, e.path, map[string]func(entry){
		"inputs":      func(e entry) { pkg.Inputs = o.merge(pkg.Inputs, e) },
		"annotations": func(e entry) { pkg.Annotations = o.merge(pkg.Annotations, e) },
		"actions": find("action", func(n string) *target {
			for _, a := range pkg.Actions {
				if a.Name == n {
					return &target{&a.Inputs, &a.Annotations}
				}
			}
			return nil
		}),
		"sequences": find("sequence", func(n string) *target {
			for _, s := range pkg.Sequences {
				if s.Name == n {
					return &target{&s.Inputs, &s.Annotations}
				}
			}
			return nil
		}),
		"triggers": find("trigger", func(n string) *target {
			for _, t := range pkg.Triggers {
				if t.Name == n {
					return &target{&t.Inputs, &t.Annotations}
				}
			}
			return nil
		}),
		"namespace": o.ignored, "credential": o.ignored, "version": o.ignored, "description": o.ignored,
	})
}

func (o *overrider) entity(e entry, t *target) {
	o.fields(e.value, e.path, map[string]func(entry){
		"inputs":      func(e entry) { *t.inputs = o.merge(*t.inputs, e) },
		"annotations": func(e entry) { *t.annotations = o.merge(*t.annotations, e) },
	})
}

// merge sets each key of e in ps, keeping the manifest's declared type.
func (o *overrider) merge(ps Params, e entry) Params {
	nested := &parser{reader: o.reader, project: &Project{}}
	ov := nested.params(e)
	o.errs = nested.errs // what it found, after what o had
	for _, p := range ov {
		if i := ps.index(p.Key); i >= 0 && ps[i].Type != "" {
			v, err := coerce(ps[i].Type, p.Value)
			if err != nil {
				o.errs = append(o.errs, &Error{File: o.file, Path: p.Path, Line: p.Line,
					Msg: fmt.Sprintf("%s (declared %s in the manifest at line %d)", err, ps[i].Type, ps[i].Line)})
				continue
			}
			p.Type, p.Value = ps[i].Type, v
		}
		ps = ps.set(p)
	}
	return ps
}
