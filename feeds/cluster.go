package feeds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/wispio/wisp/actions/builtin"
	"github.com/wispio/wisp/store"
)

// Leases decides which feeds node runs each registration: a lease per
// registration key, held by one live node at a time and lost TTL after
// its holder stops renewing it. bus.Leases (a JetStream key-value bucket
// with a TTL) is the implementation; without NATS a cluster of feeds
// nodes could hold the same leases as CouchDB documents written with
// their revision and an expiry time (not implemented: a cluster always
// has NATS).
type Leases interface {
	// Node is this node's id, the holder Acquire reports when it holds
	// the lease.
	Node() string
	// Acquire takes the lease unless another node holds it and returns
	// its holder.
	Acquire(ctx context.Context, name string) (string, error)
	// Renew extends this node's lease; false when another node holds it.
	Renew(ctx context.Context, name string) (bool, error)
	// Release gives the lease up.
	Release(ctx context.Context, name string) error
	// Holder returns the node holding the lease, "" when it is free.
	Holder(ctx context.Context, name string) (string, error)
	// Live marks this node alive for the lease time and returns the nodes
	// alive now, this one included.
	Live(ctx context.Context) ([]string, error)
	// Leave takes this node out of the live nodes at once.
	Leave(ctx context.Context) error
}

// Forwarder runs a feed action on the node that holds its registration.
type Forwarder interface {
	Forward(ctx context.Context, node, handler string, call builtin.Call) (json.RawMessage, error)
}

// Cluster shares the registrations among the feeds nodes of a cluster:
// each runs the registrations whose lease it holds, takes over those
// whose holder stopped renewing (every Scan, from the stored cursor and
// outbox), spreads them over the live nodes (a free registration goes to
// its PreferredNode, or to any node after Grace; a node hands a
// registration to its preferred node when that one is live), and forwards a feed action for a registration another node
// holds to that node. Without a Cluster the Manager runs every
// registration.
type Cluster struct {
	Leases  Leases
	Forward Forwarder
	// Scan is how often leases are renewed and free registrations taken;
	// a third of the lease time or less.
	Scan time.Duration
	// Grace is how long a free registration is left to its preferred
	// node (PreferredNode) before another node takes it; 0 is three Scans.
	Grace time.Duration
	// Hooks hands a webhook delivery for a feed this node does not run to
	// the node that runs it; nil answers such deliveries 404.
	Hooks HookForwarder
}

// Share makes the manager one of several feeds nodes sharing the
// registrations through c; call it before Start.
func (m *Manager) Share(c *Cluster) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cfg.Cluster = c
	m.spread = spread{freeSince: map[string]time.Time{}, byGrace: map[string]bool{}}
}

// forwardedKey marks the context of a forwarded feed action: it is run
// here or refused, never forwarded again.
type forwardedKey struct{}

// ServeForwarded runs the feed action handler (HandlerName) for a call
// another node forwarded.
func (m *Manager) ServeForwarded(ctx context.Context, handler string, call builtin.Call) (json.RawMessage, error) {
	fn, ok := m.Builtins()[handler]
	if !ok {
		return nil, fmt.Errorf("feeds: no feed action %q on this node", handler)
	}
	return fn(context.WithValue(ctx, forwardedKey{}, true), call)
}

// owner makes sure this node runs key's registration if no other live
// node does, and returns the node that does ("" for this one).
func (m *Manager) owner(ctx context.Context, key string) (string, error) {
	c := m.cfg.Cluster
	if c == nil {
		return "", nil
	}
	holder, err := c.Leases.Acquire(ctx, key)
	if err != nil {
		return "", err
	}
	if holder != c.Leases.Node() {
		if ctx.Value(forwardedKey{}) != nil {
			return "", builtin.Errorf("triggerName: the feed moved to another node while the request was on its way; retry")
		}
		m.drop(key) // held elsewhere: whatever runs here must stop
		return holder, nil
	}
	if m.lookup(key) == nil {
		if err := m.adopt(ctx, key, nil); err != nil {
			return "", err
		}
	}
	return "", nil
}

// runOwnership renews this node's leases and takes free registrations
// every Scan until the manager closes.
func (m *Manager) runOwnership() {
	c := m.cfg.Cluster
	t := time.NewTicker(c.Scan)
	defer t.Stop()
	for {
		m.scan(m.runCtx)
		select {
		case <-m.runCtx.Done():
			return
		case <-t.C:
		}
	}
}

// scan renews the leases of the registrations this node runs (dropping
// those it lost, handing those preferred by another live node to it) and
// adopts the stored registrations whose lease is free and which fall to
// this node.
func (m *Manager) scan(ctx context.Context) {
	c := m.cfg.Cluster
	me := c.Leases.Node()
	live := m.liveNodes(ctx, c)
	m.mu.Lock()
	keys := make([]string, 0, len(m.entries))
	for k := range m.entries {
		keys = append(keys, k)
	}
	m.mu.Unlock()
	for _, key := range keys {
		held, err := c.Leases.Renew(ctx, key)
		if err != nil {
			if ctx.Err() == nil {
				m.log.Warn("feed lease not renewed", "trigger", key, "err", err)
			}
			continue // it may still be ours: the next scan tells
		}
		if !held {
			m.log.Warn("feed lease lost to another node; stopping it here", "trigger", key)
			m.drop(key)
			delete(m.spread.byGrace, key)
			continue
		}
		if yields(key, me, live, m.spread.byGrace[key]) {
			m.log.Info("feed registration handed to its preferred node", "trigger", key, "node", PreferredNode(key, live))
			m.drop(key)
			if err := c.Leases.Release(ctx, key); err != nil {
				m.log.Warn("release feed lease", "trigger", key, "err", err)
			}
		}
	}
	recs, err := m.store.List(ctx, SystemNamespace, store.Feeds, store.ListOptions{})
	if err != nil {
		if ctx.Err() == nil {
			m.log.Warn("list feed registrations", "err", err)
		}
		return
	}
	stored := make(map[string]bool, len(recs))
	now := time.Now()
	for _, rec := range recs {
		stored[rec.Name] = true
		if m.lookup(rec.Name) != nil {
			delete(m.spread.freeSince, rec.Name)
			continue
		}
		holder, err := c.Leases.Holder(ctx, rec.Name)
		if err != nil {
			if ctx.Err() == nil {
				m.log.Warn("read feed lease", "trigger", rec.Name, "err", err)
			}
			continue
		}
		if holder != "" && holder != me {
			delete(m.spread.freeSince, rec.Name)
			continue
		}
		byGrace := false
		if holder == "" {
			since, seen := m.spread.freeSince[rec.Name]
			if !seen {
				since = now
				m.spread.freeSince[rec.Name] = now
			}
			if !claims(rec.Name, me, live, now.Sub(since), c.grace()) {
				continue // its preferred node takes it
			}
			byGrace = PreferredNode(rec.Name, live) != me
		}
		delete(m.spread.freeSince, rec.Name)
		m.take(ctx, &rec, byGrace)
	}
	for key := range m.spread.freeSince {
		if !stored[key] {
			delete(m.spread.freeSince, key)
		}
	}
}

// take acquires rec's lease and runs it here when this node gets it.
func (m *Manager) take(ctx context.Context, rec *store.Record, byGrace bool) {
	c := m.cfg.Cluster
	holder, err := c.Leases.Acquire(ctx, rec.Name)
	if err != nil {
		if ctx.Err() == nil {
			m.log.Warn("acquire feed lease", "trigger", rec.Name, "err", err)
		}
		return
	}
	if holder != c.Leases.Node() {
		return
	}
	if err := m.adopt(ctx, rec.Name, rec); err != nil {
		m.log.Error("take over a feed registration", "trigger", rec.Name, "err", err)
		_ = c.Leases.Release(context.WithoutCancel(ctx), rec.Name)
		return
	}
	if byGrace {
		m.spread.byGrace[rec.Name] = true
	} else {
		delete(m.spread.byGrace, rec.Name)
	}
	m.log.Info("feed registration taken over", "trigger", rec.Name, "node", c.Leases.Node(), "byGrace", byGrace)
}

// adopt loads key's registration (rec, or read from the store) and its
// pending events, and runs it as Start does; a key with no registration
// is left alone.
func (m *Manager) adopt(ctx context.Context, key string, rec *store.Record) error {
	if rec == nil {
		got, err := m.store.Get(ctx, SystemNamespace, store.Feeds, key)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read feed registration %s: %w", key, err)
		}
		rec = &got
	}
	evs, err := m.store.List(ctx, SystemNamespace, store.FeedEvents, store.ListOptions{Prefix: key + "/"})
	if err != nil {
		return fmt.Errorf("load the feed outbox of %s: %w", key, err)
	}
	pending := map[string][]outboxEvent{}
	for _, r := range evs {
		var ev outboxEvent
		if err := json.Unmarshal(r.Doc, &ev); err != nil || ev.Trigger != key {
			continue
		}
		pending[key] = append(pending[key], ev)
	}
	sortEvents(pending[key])
	m.mu.Lock()
	if m.entries[key] != nil || m.closed {
		m.mu.Unlock()
		return nil
	}
	m.mu.Unlock()
	return m.open(ctx, *rec, pending)
}

// drop stops running key's registration here without touching the store:
// another node holds it now.
func (m *Manager) drop(key string) {
	e := m.lookup(key)
	if e == nil {
		return
	}
	e.op.Lock()
	defer e.op.Unlock()
	if err := e.stopFeed(context.WithoutCancel(m.runCtx)); err != nil {
		m.log.Warn("stop a feed given up", "trigger", key, "err", err)
	}
	e.stopWorker()
	e.mu.Lock()
	e.removed = true // no more writes of the registration from here
	e.mu.Unlock()
	m.mu.Lock()
	if m.entries[key] == e {
		delete(m.entries, key)
	}
	m.mu.Unlock()
}

// handOver ends this node's share on a clean stop, once the
// registrations in keys stopped running here and their fired events'
// removals are durable: it leaves the live nodes, then releases the
// leases, so that the other feeds nodes take the registrations over at
// their next scan (from the stored cursor and outbox, as after a crash)
// instead of after the lease time, and each goes to its preferred node
// among those left.
func (m *Manager) handOver(ctx context.Context, keys []string) error {
	c := m.cfg.Cluster
	if c == nil {
		return nil
	}
	var errs []error
	if err := c.Leases.Leave(ctx); err != nil {
		errs = append(errs, err)
	}
	for _, key := range keys {
		if err := c.Leases.Release(ctx, key); err != nil {
			errs = append(errs, err)
		}
	}
	if len(keys) > 0 {
		m.log.Info("feed registrations handed over on stop", "registrations", len(keys), "node", c.Leases.Node())
	}
	return errors.Join(errs...)
}

// release gives up key's lease after its registration is deleted.
func (m *Manager) release(ctx context.Context, key string) {
	if c := m.cfg.Cluster; c != nil {
		if err := c.Leases.Release(ctx, key); err != nil {
			m.log.Warn("release feed lease", "trigger", key, "err", err)
		}
	}
}
