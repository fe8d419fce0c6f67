package entity

import (
	"errors"
	"strings"
)

// ReservedPackageName is the package name OpenWhisk keeps for the default
// package (web action paths use it).
const ReservedPackageName = "default"

// Binding names the package a binding refers to; the zero value (JSON {})
// means the package is not a binding.
type Binding struct {
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
}

// IsZero reports whether b refers to nothing.
func (b Binding) IsZero() bool { return b.Namespace == "" && b.Name == "" }

// FQN is the fully qualified name of the bound package.
func (b Binding) FQN() FQN { return FQN{Namespace: b.Namespace, Name: b.Name} }

// PackageAction is an action (or feed) as a package's GET lists it.
type PackageAction struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	Annotations Params `json:"annotations"`
}

// Package is an OpenWhisk package or package binding, as stored and as
// returned by the API. Actions and Feeds are filled only on GET.
type Package struct {
	Namespace   string          `json:"namespace"`
	Name        string          `json:"name"`
	Version     string          `json:"version"`
	Publish     bool            `json:"publish"`
	Annotations Params          `json:"annotations"`
	Parameters  Params          `json:"parameters"`
	Binding     Binding         `json:"binding"`
	Updated     int64           `json:"updated"`
	Actions     []PackageAction `json:"actions,omitzero"`
	Feeds       []PackageAction `json:"feeds,omitzero"`
}

// IsBinding reports whether p is a binding to another package.
func (p *Package) IsBinding() bool { return !p.Binding.IsZero() }

// FQN is the package's fully qualified name.
func (p *Package) FQN() FQN { return FQN{Namespace: p.Namespace, Name: p.Name} }

// PackagePut is the body of PUT /packages/NAME. Absent fields keep the
// stored value on update and take defaults on create.
type PackagePut struct {
	Namespace   string   `json:"namespace,omitempty"`
	Name        string   `json:"name,omitempty"`
	Version     string   `json:"version,omitempty"`
	Publish     *bool    `json:"publish,omitempty"`
	Annotations Params   `json:"annotations,omitempty"`
	Parameters  Params   `json:"parameters,omitempty"`
	Binding     *Binding `json:"binding,omitempty"`
}

// ErrPackageCannotBecomeBinding is returned when an update tries to turn a
// package into a binding (OpenWhisk answers 409 with this message).
var ErrPackageCannotBecomeBinding = errors.New("a package cannot be converted into a binding")

// BuildPackage validates req and returns the package to store. fqn names the
// package (its Package field is empty); existing is the stored package on
// update, or nil on create. A binding's "_" namespace resolves to
// fqn.Namespace. Whether the bound package exists and may be read is for the
// caller to check (it needs the store).
func BuildPackage(fqn FQN, req *PackagePut, existing *Package, lim SystemLimits, now int64) (*Package, error) {
	if err := ValidateName("name", fqn.Name); err != nil {
		return nil, err
	}
	if fqn.Name == ReservedPackageName {
		return nil, Invalid("name", "Package name '%s' is reserved.", fqn.Name)
	}
	if req.Name != "" && req.Name != fqn.Name {
		return nil, Invalid("name", "%q in the body does not match %q in the path", req.Name, fqn.Name)
	}
	p := &Package{Namespace: fqn.Namespace, Name: fqn.Name, Version: "0.0.1"}
	if existing != nil {
		cp := *existing
		p = &cp
		p.Version = NextVersion(existing.Version)
		p.Actions, p.Feeds = nil, nil
	}
	if req.Version != "" {
		p.Version = req.Version
	}
	p.Updated = now
	if req.Publish != nil {
		p.Publish = *req.Publish
	}
	if req.Binding != nil && !req.Binding.IsZero() {
		if existing != nil && !existing.IsBinding() {
			return nil, ErrPackageCannotBecomeBinding
		}
		b, err := resolveBinding(*req.Binding, fqn.Namespace)
		if err != nil {
			return nil, err
		}
		p.Binding = b
	}
	if req.Annotations != nil {
		if err := validateParams("annotations", req.Annotations, lim); err != nil {
			return nil, err
		}
		p.Annotations = req.Annotations
	}
	if req.Parameters != nil {
		if err := validateParams("parameters", req.Parameters, lim); err != nil {
			return nil, err
		}
		p.Parameters = req.Parameters
	}
	p.Annotations = withoutKey(p.Annotations, "binding")
	if p.IsBinding() {
		p.Annotations = p.Annotations.Set("binding", p.Binding)
	}
	if p.Annotations == nil {
		p.Annotations = Params{}
	}
	if p.Parameters == nil {
		p.Parameters = Params{}
	}
	return p, nil
}

func resolveBinding(b Binding, defaultNS string) (Binding, error) {
	ns := strings.TrimPrefix(b.Namespace, "/")
	if ns == "" || ns == DefaultNamespace {
		ns = defaultNS
	}
	if err := ValidateName("binding.namespace", ns); err != nil {
		return Binding{}, err
	}
	if err := ValidateName("binding.name", b.Name); err != nil {
		return Binding{}, err
	}
	return Binding{Namespace: ns, Name: b.Name}, nil
}

func withoutKey(p Params, key string) Params {
	if _, ok := p.Get(key); !ok {
		return p
	}
	out := make(Params, 0, len(p)-1)
	for _, kv := range p {
		if kv.Key != key {
			out = append(out, kv)
		}
	}
	return out
}

// IsConductor reports whether an action is a conductor action: its
// "conductor" annotation has a value that is not falsy (not 0, null, false
// or ""). The annotation is ignored on sequences.
func (a *Action) IsConductor() bool {
	if a.Exec.Kind == KindSequence {
		return false
	}
	raw, ok := a.Annotations.Get("conductor")
	if !ok {
		return false
	}
	switch strings.TrimSpace(string(raw)) {
	case "", "0", "null", "false", `""`, "0.0":
		return false
	}
	return true
}
