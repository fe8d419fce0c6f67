package feeds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/wispio/wisp/actions/builtin"
	"github.com/wispio/wisp/catalog"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/internal/secrets"
	"github.com/wispio/wisp/routing"
	"github.com/wispio/wisp/store"
)

// SystemNamespace holds the registrations (store.Feeds, keyed "ns/trigger")
// and the outbox (store.FeedEvents, keyed "ns/trigger/sequence").
const SystemNamespace = catalog.SystemNamespace

// Firer fires a trigger; routing.Firer is the implementation.
type Firer interface {
	Fire(ctx context.Context, req routing.FireRequest) (*routing.FireResult, error)
}

// NowFirer is a Firer that can also run a fire's rules at once, before
// the fire is durable (routing.Firer.FireNow, with its trigger activation
// sink): the worker then keeps the event in the outbox until keep returns
// nil. A nil keep has nothing to wait for.
type NowFirer interface {
	Firer
	FireNow(ctx context.Context, req routing.FireRequest) (keep func(context.Context) error, err error)
}

// TriggerDeleter removes a trigger (deleteAfterFire); routing.Triggers is
// the implementation, which keeps the rule index in step.
type TriggerDeleter interface {
	DeleteTrigger(ctx context.Context, fqn entity.FQN) (*entity.Trigger, error)
}

// Described is implemented by providers that describe their catalogue
// package and its feed actions.
type Described interface {
	Description() string
	FeedDescription(feed string) string
}

// Forgetter is implemented by providers whose source keeps state for a
// registration beyond its Feed (an MQTT broker's persistent session, a
// repository webhook): DELETE calls Forget after stopping the feed.
type Forgetter interface {
	Forget(ctx context.Context, reg Registration) error
}

// Action is a system action a provider adds to its catalogue package
// (mqtt publish, couchdb read): a builtin action that is not a feed.
type Action struct {
	Name        string
	Description string
	Func        builtin.Func
}

// WithActions is implemented by providers that add system actions to
// their catalogue package.
type WithActions interface {
	Actions() []Action
}

// actionHandler is the builtin handler name of a provider's system action.
func actionHandler(provider, action string) string { return "actions/" + provider + "/" + action }

// Config tunes the Manager.
type Config struct {
	// RetryMin and RetryMax bound the exponential backoff between attempts
	// to fire a trigger and to restart a feed whose Start failed.
	RetryMin, RetryMax time.Duration
	// Secrets seals the registrations' secrets in the store (see
	// putRecord); nil stores them in the clear (tests). The server always
	// sets one.
	Secrets *secrets.Box

	// MaxPayload is the largest event payload in bytes a feed may deliver
	// (0: entity's default parameter size limit, 1 MB). Payloads nesting
	// deeper than entity.MaxJSONDepth are refused too.
	MaxPayload int

	// Tracer records the spans of deliveries and fires (see tracing); nil
	// records none.
	Tracer trace.TracerProvider

	// Observer is told of each event received, fired or failed (metrics);
	// nil observes nothing.
	Observer Observer

	// Cluster shares the registrations with other feeds nodes (see
	// Cluster); nil runs them all here.
	Cluster *Cluster
}

// DefaultConfig returns the defaults of `wisp serve`.
func DefaultConfig() Config {
	return Config{RetryMin: 200 * time.Millisecond, RetryMax: 30 * time.Second, MaxPayload: entity.DefaultSystemLimits().ParamsSize}
}

// overLimits says why an event payload is refused, or "" when it is not:
// the same size and depth limits as a fire through the API.
func (m *Manager) overLimits(payload []byte) string {
	limit := m.cfg.MaxPayload
	if limit <= 0 {
		limit = entity.DefaultSystemLimits().ParamsSize
	}
	if len(payload) > limit {
		return fmt.Sprintf("the payload of %d bytes exceeds the limit of %d bytes", len(payload), limit)
	}
	if entity.JSONDepth(payload, entity.MaxJSONDepth) > entity.MaxJSONDepth {
		return entity.DepthReason()
	}
	return ""
}

// Manager runs the feeds of every provider; see the package doc.
type Manager struct {
	cfg       Config
	store     store.Store
	log       *slog.Logger
	providers map[string]Provider // read-only after New
	names     []string            // provider names in order

	// runCtx lives from Start to Close: feeds and workers run under it.
	runCtx context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // background finishers and restarters

	mu       sync.Mutex // guards entries, firer, triggers, started, closed
	entries  map[string]*entry
	firer    Firer
	triggers TriggerDeleter
	started  bool
	closed   bool

	spread spread // the spreading over feeds nodes: scan's own (spread.go)
}

// New returns a Manager over st for providers; Start it to serve.
func New(cfg Config, st store.Store, log *slog.Logger, providers ...Provider) (*Manager, error) {
	if cfg.Observer == nil {
		cfg.Observer = nopObserver{}
	}
	m := &Manager{cfg: cfg, store: st, log: log, providers: map[string]Provider{}, entries: map[string]*entry{}}
	for _, p := range providers {
		if _, dup := m.providers[p.Name()]; dup {
			return nil, fmt.Errorf("feeds: two providers named %q", p.Name())
		}
		m.providers[p.Name()] = p
		m.names = append(m.names, p.Name())
	}
	m.runCtx, m.cancel = context.WithCancel(context.Background())
	return m, nil
}

// HandlerName is the builtin handler of a feed action.
func HandlerName(provider, feed string) string { return "feeds/" + provider + "/" + feed }

// Builtins returns the handlers of every provider's feed actions.
func (m *Manager) Builtins() builtin.Registry {
	reg := builtin.Registry{}
	for _, name := range m.names {
		p := m.providers[name]
		for _, feed := range p.Feeds() {
			reg[HandlerName(name, feed)] = m.handler(p, feed)
		}
		if wa, ok := p.(WithActions); ok {
			for _, a := range wa.Actions() {
				reg[actionHandler(name, a.Name)] = a.Func
			}
		}
	}
	return reg
}

// Packages returns a catalogue package per provider, with its feed actions.
func (m *Manager) Packages() []catalog.Package {
	var pkgs []catalog.Package
	for _, name := range m.names {
		p := m.providers[name]
		pkg := catalog.Package{Name: name, Description: name + " feeds"}
		d, described := p.(Described)
		if described {
			pkg.Description = d.Description()
		}
		for _, feed := range p.Feeds() {
			b := catalog.Builtin{Name: feed, Handler: HandlerName(name, feed), Feed: true}
			if described {
				b.Description = d.FeedDescription(feed)
			}
			if decl, ok := p.(Declarer); ok {
				b.Parameters = decl.Params(feed).Catalog()
			}
			pkg.Builtins = append(pkg.Builtins, b)
		}
		if wa, ok := p.(WithActions); ok {
			for _, a := range wa.Actions() {
				pkg.Builtins = append(pkg.Builtins, catalog.Builtin{Name: a.Name, Handler: actionHandler(name, a.Name), Description: a.Description})
			}
		}
		pkgs = append(pkgs, pkg)
	}
	return pkgs
}

// Hooks returns the HTTP handler of the providers that receive events
// over HTTP (HTTPProvider), each under HookPath(name); nil when none does.
// It is mounted outside the API's authentication. With Cluster.Hooks, a
// delivery that no feed of this node takes (404) goes to the other feeds
// nodes, so that every node answers every hook.
func (m *Manager) Hooks() http.Handler {
	local := m.LocalHooks()
	if local == nil {
		return nil
	}
	if c := m.cfg.Cluster; c != nil && c.Hooks != nil {
		return forwardingHooks{local: local, fw: c.Hooks}
	}
	return local
}

// LocalHooks is Hooks without forwarding to other feeds nodes: what a
// node answers a forwarded delivery with; nil when no provider has hooks.
func (m *Manager) LocalHooks() http.Handler {
	mux := http.NewServeMux()
	n := 0
	for _, name := range m.names {
		if hp, ok := m.providers[name].(HTTPProvider); ok {
			mux.Handle(HookPath(name), hp.HTTPHandler())
			n++
		}
	}
	if n == 0 {
		return nil
	}
	return mux
}

// Start loads every registration, fires the events left in the outbox and
// starts the feeds that were running. firer fires triggers; triggers
// deletes them for deleteAfterFire.
func (m *Manager) Start(ctx context.Context, firer Firer, triggers TriggerDeleter) error {
	m.mu.Lock()
	if m.started {
		m.mu.Unlock()
		return errors.New("feeds: started twice")
	}
	m.firer, m.triggers, m.started = firer, triggers, true
	m.mu.Unlock()

	if m.cfg.Cluster != nil {
		// Only the registrations whose lease this node takes: the first
		// scan now, the others as their holders go.
		m.scan(ctx)
		m.background(m.runOwnership)
		m.log.Info("feeds started", "registrations", len(m.entries), "providers", strings.Join(m.names, ","), "node", m.cfg.Cluster.Leases.Node())
		return nil
	}
	recs, err := m.store.List(ctx, SystemNamespace, store.Feeds, store.ListOptions{})
	if err != nil {
		return fmt.Errorf("load feed registrations: %w", err)
	}
	pending, err := m.loadOutbox(ctx)
	if err != nil {
		return err
	}
	for _, rec := range recs {
		if err := m.open(ctx, rec, pending); err != nil {
			return err
		}
		delete(pending, rec.Name)
	}
	for key, evs := range pending {
		m.log.Warn("drop outbox events of a trigger without feed registration", "trigger", key, "events", len(evs))
		for _, ev := range evs {
			m.deleteEvent(ctx, ev)
		}
	}
	m.log.Info("feeds started", "registrations", len(recs), "providers", strings.Join(m.names, ","))
	return nil
}

// open runs a stored registration with its pending events: its outbox
// worker, and its feed unless it is paused or finished. An unreadable
// registration is logged and skipped.
func (m *Manager) open(ctx context.Context, rec store.Record, pending map[string][]outboxEvent) error {
	var doc record
	if err := json.Unmarshal(rec.Doc, &doc); err != nil {
		m.log.Error("skip an unreadable feed registration", "key", rec.Name, "err", err)
		return nil
	}
	rev, err := m.openStored(ctx, rec.Name, rec.Rev, &doc)
	if err != nil {
		return err
	}
	fqn, err := parseKey(rec.Name)
	if err != nil {
		m.log.Error("skip a feed registration with a bad key", "key", rec.Name, "err", err)
		return nil
	}
	e := m.newEntry(fqn, m.providers[doc.Provider], doc, rev, pending[rec.Name])
	e.startWorker()
	m.mu.Lock()
	m.entries[rec.Name] = e
	m.mu.Unlock()
	if e.provider == nil {
		e.setFailed(fmt.Errorf("provider %q is not available in this server", doc.Provider))
		return nil
	}
	if doc.Status == StatusActive || doc.Status == StatusFailed {
		m.restart(e)
	}
	return nil
}

// loadOutbox reads the pending events, grouped by registration key, in
// sequence order.
func (m *Manager) loadOutbox(ctx context.Context) (map[string][]outboxEvent, error) {
	recs, err := m.store.List(ctx, SystemNamespace, store.FeedEvents, store.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("load feed outbox: %w", err)
	}
	out := map[string][]outboxEvent{}
	for _, rec := range recs {
		var ev outboxEvent
		if err := json.Unmarshal(rec.Doc, &ev); err != nil {
			m.log.Error("drop an unreadable outbox event", "key", rec.Name, "err", err)
			_ = m.store.Delete(ctx, SystemNamespace, store.FeedEvents, rec.Name, "")
			continue
		}
		key := ev.Trigger
		out[key] = append(out[key], ev)
	}
	for _, evs := range out {
		sortEvents(evs)
	}
	return out, nil
}

// sortEvents puts a trigger's events in sequence order.
func sortEvents(evs []outboxEvent) {
	sort.Slice(evs, func(i, j int) bool { return evs[i].Seq < evs[j].Seq })
}

// restart starts a loaded feed, retrying with backoff in the background
// while its Start fails (a broker down at boot).
func (m *Manager) restart(e *entry) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		b := m.backoff()
		for {
			err := e.startIfWanted()
			if err == nil {
				return
			}
			e.setFailed(fmt.Errorf("restart: %w", err))
			m.log.Warn("feed restart failed", "trigger", e.fqn.String(), "err", err)
			select {
			case <-m.runCtx.Done():
				return
			case <-time.After(b.NextBackOff()):
			}
		}
	}()
}

// Close stops every feed and worker; registrations and pending events
// stay for the next Start.
func (m *Manager) Close(ctx context.Context) error {
	m.mu.Lock()
	m.closed = true
	entries := make([]*entry, 0, len(m.entries))
	for _, e := range m.entries {
		entries = append(entries, e)
	}
	m.mu.Unlock()
	m.cancel()
	var errs []error
	for _, e := range entries {
		e.op.Lock()
		if err := e.stopFeed(ctx); err != nil {
			errs = append(errs, err)
		}
		e.stopWorker()
		e.op.Unlock()
	}
	m.wg.Wait()
	// The fired events' removals (deleteEvent) become durable before
	// Close returns.
	if err := store.CommitLater(ctx, m.store); err != nil {
		errs = append(errs, fmt.Errorf("remove fired feed events: %w", err))
	}
	keys := make([]string, len(entries))
	for i, e := range entries {
		keys[i] = e.key
	}
	if err := m.handOver(ctx, keys); err != nil {
		errs = append(errs, fmt.Errorf("hand the feeds over: %w", err))
	}
	return errors.Join(errs...)
}

func (m *Manager) lookup(key string) *entry {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.entries[key]
}

func (m *Manager) deleteEvent(ctx context.Context, ev outboxEvent) {
	// The removal need not be durable: an event a crash leaves in the
	// outbox is fired again with the same activation id, which the
	// invoker finds already ran.
	if err := store.DeleteLater(ctx, m.store, SystemNamespace, store.FeedEvents, ev.key()); err != nil && !errors.Is(err, store.ErrNotFound) {
		m.log.Error("delete a fired feed event", "trigger", ev.Trigger, "seq", ev.Seq, "err", err)
	}
}

// registrationKey is the store key of a trigger's registration.
func registrationKey(fqn entity.FQN) string { return fqn.Namespace + "/" + fqn.Name }

func parseKey(key string) (entity.FQN, error) {
	ns, name, ok := strings.Cut(key, "/")
	if !ok {
		return entity.FQN{}, fmt.Errorf("feed registration key %q is not namespace/trigger", key)
	}
	return entity.FQN{Namespace: ns, Name: name}, nil
}
