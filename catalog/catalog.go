package catalog

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strings"
	"time"

	"github.com/wispio/wisp/actions/builtin"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
)

// SystemNamespace owns the catalogue packages.
const SystemNamespace = "whisk.system"

// utilsCode holds the utils package's actions, one file per action.
//
//go:embed utils/*.js
var utilsCode embed.FS

// Package is one catalogue package: its description and the folder of
// its embedded actions (file name without ".js" = action name).
type Package struct {
	Name        string
	Description string
	Files       embed.FS
	Dir         string
	// Descriptions describe the actions by name.
	Descriptions map[string]string
	// Builtins are the package's actions implemented in Go (feed actions,
	// system actions); their handlers are registered with the invoker.
	Builtins []Builtin
}

// Builtin is a catalogue action whose code is a Go handler.
type Builtin struct {
	Name        string
	Handler     string // the builtin.Registry key
	Description string
	// Feed marks a feed action (annotation feed: true), invoked with
	// lifecycleEvent CREATE, READ, UPDATE, PAUSE, UNPAUSE or DELETE.
	Feed bool
	// Parameters describe the action's parameters, installed as its
	// "parameters" annotation (as OpenWhisk's catalogue does); nil installs
	// none.
	Parameters []Parameter
}

// Parameter is one entry of an action's "parameters" annotation, in
// OpenWhisk's catalogue form: {"name", "required", "bindTime",
// "description", "type": "password" for a credential, "defaultValue"}.
type Parameter struct {
	Name        string `json:"name"`
	Required    bool   `json:"required"`
	BindTime    bool   `json:"bindTime,omitempty"`
	Description string `json:"description,omitempty"`
	// Type is "password" for a credential (clients hide what is typed),
	// empty otherwise.
	Type         string `json:"type,omitempty"`
	DefaultValue any    `json:"defaultValue,omitempty"`
}

// Packages returns the packages Wisp ships.
func Packages() []Package {
	return []Package{{
		Name:        "utils",
		Description: "Building blocks that format and assemble data",
		Files:       utilsCode,
		Dir:         "utils",
		Descriptions: map[string]string{
			"echo":  "Returns the input",
			"cat":   "Concatenates input into a string",
			"sort":  "Sorts an array",
			"head":  "Extract prefix of an array",
			"split": "Split a string into an array",
			"date":  "Current date and time",
		},
	}}
}

// Installer writes catalogue packages into a store.
type Installer struct {
	store  store.Store
	limits entity.SystemLimits
	kinds  entity.KindResolver
	log    *slog.Logger
}

// NewInstaller returns an installer writing to st, validating actions with
// limits and kinds.
func NewInstaller(st store.Store, limits entity.SystemLimits, kinds entity.KindResolver, log *slog.Logger) *Installer {
	return &Installer{store: st, limits: limits, kinds: kinds, log: log}
}

// Install makes every package of pkgs exist, published, in SystemNamespace,
// and its actions exist with the embedded code. It is idempotent: entities
// that are already as wanted are not written.
func (in *Installer) Install(ctx context.Context, pkgs []Package) error {
	for _, p := range pkgs {
		if err := in.installPackage(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

func (in *Installer) installPackage(ctx context.Context, p Package) error {
	fqn := entity.FQN{Namespace: SystemNamespace, Name: p.Name}
	existing, rev, err := store.GetDoc[entity.Package](ctx, in.store, SystemNamespace, store.Packages, p.Name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("install package %s: %w", fqn, err)
	}
	desc := entity.Params{}.Set("description", p.Description)
	if existing == nil || !existing.Publish || !sameValue(existing.Annotations, "description", p.Description) {
		publish := true
		pkg, err := entity.BuildPackage(fqn, &entity.PackagePut{Publish: &publish, Annotations: desc}, existing, in.limits, time.Now().UnixMilli())
		if err != nil {
			return fmt.Errorf("install package %s: %w", fqn, err)
		}
		if _, err := store.PutDoc(ctx, in.store, SystemNamespace, store.Packages, p.Name, rev, pkg); err != nil {
			return fmt.Errorf("install package %s: %w", fqn, err)
		}
		in.log.Info("installed catalogue package", "package", fqn.String())
	}
	for _, b := range p.Builtins {
		af := entity.FQN{Namespace: SystemNamespace, Package: p.Name, Name: b.Name}
		ann := entity.Params{}.Set("description", b.Description)
		if b.Feed {
			ann = ann.Set("feed", true)
		}
		if b.Parameters != nil {
			ann = ann.Set("parameters", b.Parameters)
		}
		if err := in.installAction(ctx, af, builtin.Kind, b.Handler, ann); err != nil {
			return err
		}
	}
	if p.Dir == "" {
		return nil
	}
	files, err := p.Files.ReadDir(p.Dir)
	if err != nil {
		return fmt.Errorf("install package %s: read embedded actions: %w", fqn, err)
	}
	for _, f := range files {
		name, ok := strings.CutSuffix(f.Name(), ".js")
		if !ok {
			continue
		}
		code, err := p.Files.ReadFile(path.Join(p.Dir, f.Name()))
		if err != nil {
			return fmt.Errorf("install package %s: read %s: %w", fqn, f.Name(), err)
		}
		af := entity.FQN{Namespace: SystemNamespace, Package: p.Name, Name: name}
		ann := entity.Params{}.Set("description", p.Descriptions[name])
		if err := in.installAction(ctx, af, "nodejs:default", string(code), ann); err != nil {
			return err
		}
	}
	return nil
}

func (in *Installer) installAction(ctx context.Context, f entity.FQN, kind, code string, annotations entity.Params) error {
	existing, rev, err := store.GetDoc[entity.Action](ctx, in.store, f.Namespace, store.Actions, f.Path())
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("install action %s: %w", f, err)
	}
	if existing != nil && existing.Exec.Code == code && sameAnnotations(existing.Annotations, annotations) {
		return nil
	}
	req := &entity.ActionPut{
		Exec:        &entity.ExecPatch{Kind: kind, Code: &code},
		Annotations: annotations,
	}
	// Only the catalogue may make builtin actions: the API's kinds do not
	// include them.
	kinds := func(k string) (string, bool) {
		if k == builtin.Kind {
			return k, true
		}
		return in.kinds(k)
	}
	a, err := entity.BuildAction(f, req, existing, in.limits, kinds, time.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("install action %s: %w", f, err)
	}
	if _, err := store.PutDoc(ctx, in.store, f.Namespace, store.Actions, f.Path(), rev, a); err != nil {
		return fmt.Errorf("install action %s: %w", f, err)
	}
	in.log.Info("installed catalogue action", "action", f.String(), "version", a.Version)
	return nil
}

// sameAnnotations reports whether got holds every annotation of want with
// the same value.
func sameAnnotations(got, want entity.Params) bool {
	for _, kv := range want {
		v, ok := got.Get(kv.Key)
		if !ok || string(v) != string(kv.Value) {
			return false
		}
	}
	return true
}

func sameValue(p entity.Params, key, want string) bool {
	got, ok := p.GetString(key)
	return ok && got == want
}
