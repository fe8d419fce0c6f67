package deploy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/wispio/wisp/client"
	"github.com/wispio/wisp/entity"
)

// Collections, in the order entities are created (deleted in reverse).
const (
	stagePackage = iota
	stageAction
	stageSequence
	stageTrigger
	stageRule
	stageRoute
)

var collectionOf = [...]string{client.Packages, "actions", "actions", client.Triggers, client.Rules, routeCollection}

// ManagedAnnotation is the annotation that marks an entity as owned by a
// project, like wskdeploy's whisk-managed.
const ManagedAnnotation = "managed"

// Managed is the value of the managed annotation.
type Managed struct {
	Project string `json:"project"`
	File    string `json:"file,omitempty"`
	// Hash digests everything the manifest says about the entity; Parts
	// digests each part (code, inputs, ...) to tell what an update changes.
	Hash  string            `json:"hash"`
	Parts map[string]string `json:"parts,omitempty"`
}

// desired is one entity as the manifest wants it.
type desired struct {
	origin
	stage int
	name  string // within the namespace: [pkg/]name
	body  any    // the PUT body, managed annotation included
	parts map[string]any
	feed  *feedSpec // a trigger's feed
	// managed is the annotation's value, set by seal once parts are known.
	managed Managed
	deps    []string   // keys of manifest entities created before it (sequences)
	route   *routeSpec // an API route's place
}

func (d *desired) key() string {
	if d.route != nil {
		return key(routeCollection, d.route.id())
	}
	return key(collectionOf[d.stage], d.name)
}

func key(collection, name string) string { return collection + " " + name }

// feedSpec is the feed action a trigger registers with, and its inputs.
type feedSpec struct {
	action string // fully qualified
	params map[string]any
}

type actionBody struct {
	Exec        client.Exec      `json:"exec"`
	Parameters  client.KeyValues `json:"parameters"`
	Annotations client.KeyValues `json:"annotations"`
	Limits      *client.Limits   `json:"limits,omitempty"`
}

type packageBody struct {
	Publish     bool             `json:"publish"`
	Binding     *client.Binding  `json:"binding,omitempty"`
	Parameters  client.KeyValues `json:"parameters"`
	Annotations client.KeyValues `json:"annotations"`
}

type triggerBody struct {
	Parameters  client.KeyValues `json:"parameters"`
	Annotations client.KeyValues `json:"annotations"`
	// Archive is always sent: {"days": 0} turns off an archive the
	// manifest dropped.
	Archive *client.ArchivePolicy `json:"archive"`
}

type ruleBody struct {
	Trigger     string           `json:"trigger"`
	Action      string           `json:"action"`
	Annotations client.KeyValues `json:"annotations"`
	// Filter is always sent: null removes a filter the manifest dropped.
	Filter json.RawMessage `json:"filter"`
	// Delivery: null and "" clear what the manifest no longer has.
	Retry      *client.RetryPolicy `json:"retry"`
	DeadLetter string              `json:"deadLetter"`
	Sink       string              `json:"sink"`
}

// resolver turns names written in the manifest into fully qualified ones and
// records the references to entities outside it, which must exist.
type resolver struct {
	ns       string
	project  *Project
	actions  map[string]bool // manifest actions and sequences, [pkg/]name
	triggers map[string]bool
	bindings map[string]bool // packages the manifest binds (dependencies)
	external []externalRef
	errs     Errors
}

// externalRef is an entity the manifest uses but does not declare.
type externalRef struct {
	origin
	collection string
	fqn        string
}

func newResolver(ns string, p *Project) *resolver {
	r := &resolver{ns: ns, project: p, actions: map[string]bool{}, triggers: map[string]bool{}, bindings: map[string]bool{}}
	for _, pkg := range p.Packages {
		if pkg.Bind != "" {
			r.bindings[pkg.Name] = true
		}
		for _, a := range pkg.Actions {
			r.actions[pkg.qualify(a.Name)] = true
		}
		for _, s := range pkg.Sequences {
			r.actions[pkg.qualify(s.Name)] = true
		}
		for _, t := range pkg.Triggers {
			r.triggers[t.Name] = true
		}
	}
	return r
}

// action resolves an action name used in pkg: a plain name is the package's
// own action, else one of the default package; "pkg/name" and "/ns/..." are
// taken as written. It returns the fully qualified name and, for an action
// of the manifest, its name within the namespace.
func (r *resolver) action(pkg *Package, name string, at origin) (fqn, local string, ok bool) {
	if !strings.Contains(name, "/") {
		switch {
		case !pkg.IsDefault() && r.actions[pkg.qualify(name)]:
			name = pkg.qualify(name)
		case r.actions[name]:
		}
	}
	qn, err := client.ParseName(name, r.ns)
	if err != nil {
		r.errs = append(r.errs, &Error{Path: at.Path, Line: at.Line, Msg: err.Error()})
		return "", "", false
	}
	if qn.Namespace == client.DefaultNamespace {
		qn.Namespace = r.ns
	}
	if qn.Namespace == r.ns && r.actions[qn.Entity()] {
		return qn.String(), qn.Entity(), true
	}
	if qn.Namespace == r.ns && r.bindings[qn.Package] {
		// an action of a binding the manifest creates: the bound package is
		// checked, the binding comes first (packages do)
		return qn.String(), "", true
	}
	r.external = append(r.external, externalRef{origin: at, collection: "actions", fqn: qn.String()})
	return qn.String(), "", true
}

func (r *resolver) trigger(name string, at origin) (string, bool) {
	qn, err := client.ParseName(name, r.ns)
	if err == nil && qn.Package != "" {
		err = fmt.Errorf("a trigger is never in a package: %q", name)
	}
	if err != nil {
		r.errs = append(r.errs, &Error{Path: at.Path, Line: at.Line, Msg: err.Error()})
		return "", false
	}
	if qn.Namespace == client.DefaultNamespace {
		qn.Namespace = r.ns
	}
	if qn.Namespace != r.ns || !r.triggers[qn.Name] {
		r.external = append(r.external, externalRef{origin: at, collection: client.Triggers, fqn: qn.String()})
	}
	return qn.String(), true
}

// build turns the project into the entities to deploy, in creation order.
func build(p *Project, ns, file string) ([]*desired, []externalRef, error) {
	r := newResolver(ns, p)
	var byStage [stageRoute + 1][]*desired
	add := func(d *desired) { byStage[d.stage] = append(byStage[d.stage], d) }
	for _, pkg := range p.Packages {
		if !pkg.IsDefault() {
			add(r.pkg(pkg))
		}
		for _, a := range pkg.Actions {
			add(r.actionEntity(pkg, a))
		}
		for _, s := range pkg.Sequences {
			add(r.sequence(pkg, s))
		}
		for _, t := range pkg.Triggers {
			add(r.triggerEntity(pkg, t))
		}
		for _, rule := range pkg.Rules {
			add(r.rule(pkg, rule))
		}
	}
	for _, rt := range p.Routes {
		add(r.routeEntity(rt))
	}
	seqs, err := orderSequences(byStage[stageSequence])
	if err != nil {
		r.errs = append(r.errs, err)
	}
	byStage[stageSequence] = seqs
	if err := r.errs.err(); err != nil {
		return nil, nil, err
	}
	var out []*desired
	for _, stage := range byStage {
		for _, d := range stage {
			seal(d, p.Name, file)
			out = append(out, d)
		}
	}
	return out, r.external, nil
}

func (r *resolver) pkg(p *Package) *desired {
	body := &packageBody{Publish: p.Publish, Parameters: keyValues(p.Inputs), Annotations: keyValues(p.Annotations)}
	parts := map[string]any{"inputs": body.Parameters, "annotations": body.Annotations, "publish": p.Publish}
	if p.Bind != "" {
		qn, err := client.ParseName(p.Bind, r.ns)
		if err != nil {
			r.errs = append(r.errs, &Error{Path: p.Path + ".location", Line: p.Line, Msg: err.Error()})
		}
		body.Binding = &client.Binding{Namespace: qn.Namespace, Name: qn.Name}
		parts["binding"] = p.Bind
		r.external = append(r.external, externalRef{origin: p.origin, collection: client.Packages, fqn: p.Bind})
	}
	return &desired{origin: p.origin, stage: stagePackage, name: p.Name, body: body, parts: parts}
}

func (r *resolver) actionEntity(pkg *Package, a *Action) *desired {
	body := &actionBody{
		Exec:        client.Exec{Kind: a.Kind, Code: a.Code, Binary: a.Binary, Main: a.Main, Image: a.Image},
		Parameters:  keyValues(a.Inputs),
		Annotations: keyValues(a.Annotations),
		Limits:      fullLimits(a.Limits),
	}
	return &desired{origin: a.origin, stage: stageAction, name: pkg.qualify(a.Name), body: body, parts: map[string]any{
		"code": body.Exec, "inputs": body.Parameters, "annotations": body.Annotations, "limits": body.Limits,
	}}
}

// fullLimits fills the limits a manifest leaves out with OpenWhisk's
// defaults, so removing a limit from the manifest resets it.
func fullLimits(l Limits) *client.Limits {
	def := entity.DefaultSystemLimits().Defaults()
	pick := func(v *int, d int) *int {
		if v == nil {
			v = &d
		}
		return v
	}
	return &client.Limits{
		Timeout: pick(l.Timeout, def.Timeout), Memory: pick(l.Memory, def.Memory),
		Logs: pick(l.Logs, def.Logs), Concurrency: pick(l.Concurrency, def.Concurrency),
	}
}

func (r *resolver) sequence(pkg *Package, s *Sequence) *desired {
	d := &desired{origin: s.origin, stage: stageSequence, name: pkg.qualify(s.Name)}
	var components []string
	for i, c := range s.Components {
		fqn, local, ok := r.action(pkg, c, origin{fmt.Sprintf("%s.actions[%d]", s.Path, i), s.Line})
		if !ok {
			continue
		}
		components = append(components, fqn)
		if local != "" {
			d.deps = append(d.deps, key("actions", local))
		}
	}
	body := &actionBody{
		Exec:        client.Exec{Kind: "sequence", Components: components},
		Parameters:  keyValues(s.Inputs),
		Annotations: keyValues(s.Annotations),
	}
	d.body = body
	d.parts = map[string]any{"actions": components, "inputs": body.Parameters, "annotations": body.Annotations}
	return d
}

func (r *resolver) triggerEntity(pkg *Package, t *Trigger) *desired {
	body := &triggerBody{Parameters: keyValues(t.Inputs), Annotations: keyValues(t.Annotations), Archive: &client.ArchivePolicy{}}
	d := &desired{origin: t.origin, stage: stageTrigger, name: t.Name, body: body}
	d.parts = map[string]any{"inputs": body.Parameters, "annotations": body.Annotations}
	if t.Archive != nil && t.Archive.Days > 0 {
		// Only a trigger with an archive has the part, so that the
		// triggers deployed before archives existed stay unchanged.
		body.Archive = t.Archive
		d.parts["archive"] = t.Archive
	}
	if t.Feed == "" {
		return d
	}
	fqn, _, ok := r.action(pkg, t.Feed, t.FeedAt)
	if !ok {
		return d
	}
	// As wsk trigger create --feed: the inputs go to the feed, not the trigger.
	d.feed = &feedSpec{action: fqn, params: map[string]any{}}
	for _, p := range t.Inputs {
		d.feed.params[p.Key] = p.Value
	}
	body.Parameters = client.KeyValues{}
	body.Annotations = append(client.KeyValues{{Key: "feed", Value: fqn}}, body.Annotations...)
	d.parts["feed"] = fqn
	return d
}

func (r *resolver) rule(pkg *Package, rule *Rule) *desired {
	trigger, _ := r.trigger(rule.Trigger, rule.TriggerAt)
	action, _, _ := r.action(pkg, rule.Action, rule.ActionAt)
	body := &ruleBody{Trigger: trigger, Action: action, Annotations: keyValues(rule.Annotations), Filter: rule.Filter}
	d := &desired{origin: rule.origin, stage: stageRule, name: rule.Name, body: body, parts: map[string]any{
		"trigger": trigger, "action": action, "annotations": body.Annotations,
	}}
	if rule.Filter != nil {
		// Only a rule with a filter has the part, so that the rules
		// deployed before filters existed stay unchanged.
		d.parts["filter"] = rule.Filter
	}
	r.delivery(d, body, rule)
	return d
}

// orderSequences sorts sequences so that one made of others comes after
// them; a cycle is an error.
func orderSequences(seqs []*desired) ([]*desired, *Error) {
	byKey := map[string]*desired{}
	for _, s := range seqs {
		byKey[s.key()] = s
	}
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var out []*desired
	var visit func(s *desired) *Error
	visit = func(s *desired) *Error {
		switch state[s.key()] {
		case visiting:
			return &Error{Path: s.Path, Line: s.Line, Msg: fmt.Sprintf("sequence %q contains itself", s.name)}
		case done:
			return nil
		}
		state[s.key()] = visiting
		for _, dep := range s.deps {
			if other, ok := byKey[dep]; ok {
				if err := visit(other); err != nil {
					return err
				}
			}
		}
		state[s.key()] = done
		out = append(out, s)
		return nil
	}
	for _, s := range seqs {
		if err := visit(s); err != nil {
			return seqs, err
		}
	}
	return out, nil
}

// seal computes the entity's hashes and adds the managed annotation.
func seal(d *desired, project, file string) {
	m := Managed{Project: project, File: file, Parts: map[string]string{}}
	for name, part := range d.parts {
		m.Parts[name] = digest(part)
	}
	m.Hash = digest(m.Parts)
	ann := client.KeyValue{Key: ManagedAnnotation, Value: m}
	switch b := d.body.(type) {
	case *actionBody:
		b.Annotations = append(b.Annotations, ann)
	case *packageBody:
		b.Annotations = append(b.Annotations, ann)
	case *triggerBody:
		b.Annotations = append(b.Annotations, ann)
	case *ruleBody:
		b.Annotations = append(b.Annotations, ann)
	case *routeBody:
		b.managed = m
	}
	d.parts, d.managed = nil, m
}

func digest(v any) string {
	data, _ := json.Marshal(v) // values from YAML always marshal
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}

// keyValues renders params as OpenWhisk's list; never nil, so an update
// sends [] and clears what the manifest no longer has.
func keyValues(ps Params) client.KeyValues {
	out := client.KeyValues{}
	for _, p := range ps {
		out = append(out, client.KeyValue{Key: p.Key, Value: p.Value})
	}
	return out
}
