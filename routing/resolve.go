package routing

import (
	"context"
	"errors"
	"fmt"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
)

// ForbiddenError means the subject may not read or invoke Resource.
type ForbiddenError struct {
	// Resource is the entity asked for, as namespace[/package[/name]].
	Resource string
}

func (e *ForbiddenError) Error() string {
	return "The supplied authentication is not authorized to access '" + e.Resource + "'."
}

// Entitled is Wisp's one rule for reading and invoking across namespaces:
// a subject may use every entity of its own namespace, and of another
// namespace only a published package and what is in it. (Writes are only
// ever allowed in the subject's own namespace; the API enforces that.)
func Entitled(subject string, pkg *entity.Package) bool {
	return pkg.Namespace == subject || pkg.Publish
}

// Resolver turns a name as a caller writes it (/ns/action, /ns/pkg/action,
// /ns/binding/action) into the concrete action, applying Entitled and
// merging parameters: package < binding < action.
type Resolver struct {
	store   store.Store
	actions *store.DocCache[entity.Action]
}

// NewResolver returns a resolver reading entities from st.
func NewResolver(st store.Store) *Resolver {
	return &Resolver{store: st, actions: store.NewDocCache[entity.Action](st, store.Actions, actionCacheSize)}
}

// actionCacheSize bounds the decoded actions a resolver keeps.
const actionCacheSize = 4096

// Resolved is a concrete action ready to run.
type Resolved struct {
	// FQN is where the action really lives: for an action reached through a
	// binding, the bound package's namespace and name.
	FQN      entity.FQN
	Revision string
	// Action is shared with the resolver's cache: do not modify it.
	Action *entity.Action
	// Params are the package's, the binding's and the action's parameters,
	// merged in that order of precedence (later wins).
	Params entity.Params
}

// Package returns the package named by f (f.Package is empty) and, when it
// is a binding, the package it binds (else the same package twice). It
// answers *ForbiddenError when subject may not read either, and
// store.ErrNotFound when one is missing; a missing package of another
// namespace is forbidden, so that its existence does not leak.
func (r *Resolver) Package(ctx context.Context, subject string, f entity.FQN) (named, target *entity.Package, err error) {
	named, err = r.readablePackage(ctx, subject, f.Namespace, f.Name)
	if err != nil || !named.IsBinding() {
		return named, named, err
	}
	target, err = r.readablePackage(ctx, subject, named.Binding.Namespace, named.Binding.Name)
	if err != nil {
		return nil, nil, err
	}
	return named, target, nil
}

func (r *Resolver) readablePackage(ctx context.Context, subject, ns, name string) (*entity.Package, error) {
	pkg, _, err := store.GetDoc[entity.Package](ctx, r.store, ns, store.Packages, name)
	switch {
	case errors.Is(err, store.ErrNotFound) && ns != subject:
		return nil, &ForbiddenError{Resource: ns + "/" + name}
	case err != nil:
		return nil, fmt.Errorf("get package /%s/%s: %w", ns, name, err)
	case !Entitled(subject, pkg):
		return nil, &ForbiddenError{Resource: ns + "/" + name}
	}
	return pkg, nil
}

// Action resolves the action f for subject.
func (r *Resolver) Action(ctx context.Context, subject string, f entity.FQN) (*Resolved, error) {
	if f.Package == "" {
		if f.Namespace != subject {
			return nil, &ForbiddenError{Resource: f.Namespace + "/" + f.Name}
		}
		return r.load(ctx, f, nil)
	}
	named, target, err := r.Package(ctx, subject, entity.FQN{Namespace: f.Namespace, Name: f.Package})
	if err != nil {
		return nil, err
	}
	params := target.Parameters
	if named.IsBinding() {
		params = params.Merge(named.Parameters)
	}
	return r.load(ctx, entity.FQN{Namespace: target.Namespace, Package: target.Name, Name: f.Name}, params)
}

func (r *Resolver) load(ctx context.Context, f entity.FQN, pkgParams entity.Params) (*Resolved, error) {
	a, rev, err := r.actions.Get(ctx, f.Namespace, f.Path())
	if err != nil {
		return nil, fmt.Errorf("get action %s: %w", f, err)
	}
	return &Resolved{FQN: f, Revision: rev, Action: a, Params: pkgParams.Merge(a.Parameters)}, nil
}

// OpenWhisk's messages about bindings.
const (
	msgBindingMissing   = "Binding references a package that does not exist."
	msgBindingToBinding = "Cannot bind to another package binding."
)

// CheckBinding validates the package a binding of subject refers to: it
// exists (*entity.FieldError otherwise), subject may read it
// (*ForbiddenError) and it is not itself a binding (*entity.FieldError).
func (r *Resolver) CheckBinding(ctx context.Context, subject string, b entity.Binding) error {
	pkg, _, err := store.GetDoc[entity.Package](ctx, r.store, b.Namespace, store.Packages, b.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return entity.Invalid("binding", "%s (/%s/%s)", msgBindingMissing, b.Namespace, b.Name)
	case err != nil:
		return fmt.Errorf("get bound package /%s/%s: %w", b.Namespace, b.Name, err)
	case !Entitled(subject, pkg):
		return &ForbiddenError{Resource: b.Namespace + "/" + b.Name}
	case pkg.IsBinding():
		return entity.Invalid("binding", "%s (/%s/%s is a binding)", msgBindingToBinding, b.Namespace, b.Name)
	}
	return nil
}

// CheckRuleAction tells whether subject may start action from a rule, as
// an ActionChecker: the action must resolve (own namespace, or a published
// package and its bindings); a missing one is a *entity.FieldError on
// "action".
func (r *Resolver) CheckRuleAction(ctx context.Context, subject string, action entity.FQN) error {
	_, err := r.Action(ctx, subject, action)
	if errors.Is(err, store.ErrNotFound) {
		return entity.Invalid("action", "action %s does not exist", action)
	}
	return err
}
