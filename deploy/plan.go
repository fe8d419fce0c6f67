package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"

	"github.com/wispio/wisp/client"
)

// Deployer plans and applies projects in the namespace of one client.
type Deployer struct {
	c *client.Client
	// authKey is the caller's "uuid:key", sent to feed actions as authKey
	// (OpenWhisk's feed protocol); never logged.
	authKey string
	log     *slog.Logger
}

// New builds a Deployer. authKey is the credential c uses; feed actions get
// it to fire the trigger.
func New(c *client.Client, authKey string, log *slog.Logger) *Deployer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Deployer{c: c, authKey: authKey, log: log}
}

// Op is what a plan does to one entity.
type Op string

// The operations of a plan.
const (
	Create    Op = "create"
	Update    Op = "update"
	Delete    Op = "delete"
	Unchanged Op = "unchanged"
)

// Change is one entity of a plan.
type Change struct {
	Op         Op
	Collection string // actions, triggers, rules, packages
	Name       string // within the namespace: [pkg/]name
	// Parts lists what an update changes (code, inputs, limits, ...), or
	// "ownership" when it adopts an entity.
	Parts []string

	want *desired // nil for a delete
	have *existing
}

// Noun is the kind of entity, as the plan prints it.
func (c Change) Noun() string {
	switch {
	case c.want != nil && c.want.stage == stageSequence, c.have != nil && c.have.sequence:
		return "sequence"
	case c.Collection == "actions":
		return "action"
	}
	return strings.TrimSuffix(c.Collection, "s")
}

// Plan is what Apply would do, in the order it would do it: creates and
// updates in dependency order, then deletes in reverse order.
type Plan struct {
	Project   string
	Namespace string
	Changes   []Change
}

// Count counts the changes with op.
func (p *Plan) Count(op Op) int {
	n := 0
	for _, c := range p.Changes {
		if c.Op == op {
			n++
		}
	}
	return n
}

// Empty tells whether applying the plan would change nothing.
func (p *Plan) Empty() bool { return p.Count(Unchanged) == len(p.Changes) }

// Write prints the plan as a diff: "+" create, "~" update (with the parts
// that change), "-" delete; unchanged entities only when verbose.
func (p *Plan) Write(w io.Writer, verbose bool) {
	fmt.Fprintf(w, "project %s in namespace %s\n", p.Project, p.Namespace)
	for _, c := range p.Changes {
		line := fmt.Sprintf("%s %s", c.Noun(), c.Name)
		switch c.Op {
		case Create:
			fmt.Fprintf(w, "+ %s\n", line)
		case Update:
			fmt.Fprintf(w, "~ %s (%s)\n", line, strings.Join(c.Parts, ", "))
		case Delete:
			fmt.Fprintf(w, "- %s\n", line)
		case Unchanged:
			if verbose {
				fmt.Fprintf(w, "  %s\n", line)
			}
		}
	}
	fmt.Fprintf(w, "plan: %d to create, %d to update, %d to delete, %d unchanged\n",
		p.Count(Create), p.Count(Update), p.Count(Delete), p.Count(Unchanged))
}

// PlanOptions change how a plan treats what it finds.
type PlanOptions struct {
	// File is the manifest's name, recorded in the managed annotation.
	File string
	// Adopt takes over entities that exist without belonging to the
	// project (unmanaged, or another project's) instead of failing.
	Adopt bool
}

// existing is an entity found in the namespace.
type existing struct {
	collection string
	name       string
	sequence   bool
	managed    *Managed   // nil when not managed by any project
	feed       string     // a trigger's feed annotation
	route      *routeSpec // an API route's place
}

// Plan validates the project against the server (runtimes, limits, the
// entities it refers to, ownership) and compares it with the namespace.
// Nothing is changed. A problem with the manifest is an Errors value.
func (d *Deployer) Plan(ctx context.Context, p *Project, opts PlanOptions) (*Plan, error) {
	ns, err := d.namespace(ctx)
	if err != nil {
		return nil, err
	}
	if err := d.checkServer(ctx, p); err != nil {
		return nil, err
	}
	wants, refs, err := build(p, ns, opts.File)
	if err != nil {
		return nil, err
	}
	have, err := d.inventory(ctx, ns)
	if err != nil {
		return nil, err
	}
	var errs Errors
	for _, ref := range refs {
		if err := d.exists(ctx, ref); err != nil {
			errs = append(errs, err)
		}
	}
	plan := &Plan{Project: p.Name, Namespace: ns}
	wanted := map[string]bool{}
	for _, w := range wants {
		wanted[w.key()] = true
		h := have[w.key()]
		ch := Change{Collection: collectionOf[w.stage], Name: w.name, want: w, have: h}
		switch {
		case h == nil:
			ch.Op = Create
		case h.managed == nil || h.managed.Project != p.Name:
			if !opts.Adopt {
				errs = append(errs, &Error{Path: w.Path, Line: w.Line, Msg: fmt.Sprintf(
					"%s %q already exists and %s; use --adopt to take it over", ch.Noun(), w.name, ownerOf(h))})
				continue
			}
			ch.Op, ch.Parts = Update, []string{"ownership"}
		case h.managed.Hash == w.managed.Hash:
			ch.Op = Unchanged
		default:
			ch.Op, ch.Parts = Update, changedParts(h.managed.Parts, w.managed.Parts)
		}
		plan.Changes = append(plan.Changes, ch)
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	plan.Changes = append(plan.Changes, deletions(have, p.Name, wanted)...)
	return plan, nil
}

// PlanUndeploy plans the removal of everything project owns in the
// namespace.
func (d *Deployer) PlanUndeploy(ctx context.Context, project string) (*Plan, error) {
	ns, err := d.namespace(ctx)
	if err != nil {
		return nil, err
	}
	have, err := d.inventory(ctx, ns)
	if err != nil {
		return nil, err
	}
	return &Plan{Project: project, Namespace: ns, Changes: deletions(have, project, nil)}, nil
}

func ownerOf(h *existing) string {
	if h.managed == nil {
		return "is not managed by a project"
	}
	return fmt.Sprintf("belongs to project %q", h.managed.Project)
}

func changedParts(old, new map[string]string) []string {
	var out []string
	for name, h := range new {
		if old[name] != h {
			out = append(out, name)
		}
	}
	for name := range old {
		if _, ok := new[name]; !ok {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		out = []string{"metadata"}
	}
	return out
}

// deletions lists what project owns and the manifest no longer wants, in
// the order to delete it: routes, rules, triggers, sequences, actions,
// packages.
func deletions(have map[string]*existing, project string, wanted map[string]bool) []Change {
	var out []Change
	for k, h := range have {
		if h.managed == nil || h.managed.Project != project || wanted[k] {
			continue
		}
		out = append(out, Change{Op: Delete, Collection: h.collection, Name: h.name, have: h})
	}
	sort.Slice(out, func(i, j int) bool {
		si, sj := stageOf(out[i].have), stageOf(out[j].have)
		if si != sj {
			return si > sj
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func stageOf(h *existing) int {
	switch {
	case h.collection == client.Packages:
		return stagePackage
	case h.collection == client.Triggers:
		return stageTrigger
	case h.collection == client.Rules:
		return stageRule
	case h.collection == routeCollection:
		return stageRoute
	case h.sequence:
		return stageSequence
	}
	return stageAction
}

// namespace is the caller's namespace by its name ("_" does not do in
// trigger names given to feeds).
func (d *Deployer) namespace(ctx context.Context) (string, error) {
	if ns := d.c.Namespace(); ns != client.DefaultNamespace {
		return ns, nil
	}
	names, _, err := d.c.ListNamespaces(ctx)
	if err != nil {
		return "", err
	}
	if len(names) == 0 {
		return "", errors.New("list namespaces: the server named none for these credentials")
	}
	return names[0], nil
}

// listed is what the namespace lists answer, enough to tell ownership.
type listed struct {
	Namespace   string           `json:"namespace"`
	Name        string           `json:"name"`
	Annotations client.KeyValues `json:"annotations"`
	Exec        *struct {
		Kind string `json:"kind"`
	} `json:"exec"`
}

// inventory lists the packages, actions, triggers, rules and API routes of
// ns.
func (d *Deployer) inventory(ctx context.Context, ns string) (map[string]*existing, error) {
	out := map[string]*existing{}
	for _, collection := range []string{client.Packages, "actions", client.Triggers, client.Rules} {
		const page = 200
		for skip := 0; ; skip += page {
			var items []listed
			if _, err := d.c.List(ctx, collection, ns, page, skip, &items); err != nil {
				return nil, err
			}
			for _, it := range items {
				e := toExisting(collection, ns, it)
				out[key(collection, e.name)] = e
			}
			if len(items) < page {
				break
			}
		}
	}
	if err := d.routeInventory(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

func toExisting(collection, ns string, it listed) *existing {
	e := &existing{collection: collection, name: it.Name}
	if pkg, ok := strings.CutPrefix(it.Namespace, ns+"/"); ok { // an action in a package
		e.name = pkg + "/" + it.Name
	}
	e.sequence = it.Exec != nil && it.Exec.Kind == "sequence"
	for _, kv := range it.Annotations {
		switch kv.Key {
		case ManagedAnnotation:
			var m Managed
			if raw, err := json.Marshal(kv.Value); err == nil && json.Unmarshal(raw, &m) == nil && m.Project != "" {
				e.managed = &m
			}
		case "feed":
			e.feed, _ = kv.Value.(string)
		}
	}
	return e
}

// exists checks an entity the manifest refers to without declaring it.
func (d *Deployer) exists(ctx context.Context, ref externalRef) *Error {
	var err error
	if ref.collection == "actions" {
		_, _, err = d.c.GetAction(ctx, ref.fqn, false)
	} else {
		var out json.RawMessage
		_, err = d.c.Get(ctx, ref.collection, ref.fqn, &out)
	}
	if err == nil {
		return nil
	}
	msg := fmt.Sprintf("%s %s: %v", strings.TrimSuffix(ref.collection, "s"), ref.fqn, err)
	var apiErr *client.Error
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound {
		msg = fmt.Sprintf("%s %s does not exist and the manifest does not declare it", strings.TrimSuffix(ref.collection, "s"), ref.fqn)
	}
	return &Error{Path: ref.Path, Line: ref.Line, Msg: msg}
}
