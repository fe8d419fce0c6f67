package bus

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wispio/wisp/internal/redact"
)

// Leases hands out named leases, each held by one node at a time, kept
// in a JetStream key-value bucket whose entries expire TTL after their
// last write: a node keeps a lease by renewing it more often than TTL,
// and a node that dies loses its leases TTL after its last renewal. The
// bucket lives in memory: a restarted NATS server forgets every lease and
// the nodes take them again.
type Leases struct {
	kv    jetstream.KeyValue
	nodes jetstream.KeyValue // the live nodes (Live), expiring alike
	node  string
	ttl   time.Duration

	mu   sync.Mutex        // guards revs
	revs map[string]uint64 // the revision of each lease this node holds
}

// Leases opens (or creates) the lease bucket named bucket for node, with
// leases lasting ttl (at least a second). The bucket's lease time is the
// cluster's: when the bucket exists already with another, that one holds
// (a node must not shorten the leases the others renew at their pace),
// TTL reports it and a warning names the difference. The bucket lives in
// the NATS server's memory, so a new lease time takes effect once every
// node runs with it and the server restarted, or the bucket was deleted
// (`nats kv del`).
func (b *NATS) Leases(ctx context.Context, bucket, node string, ttl time.Duration) (*Leases, error) {
	if ttl < time.Second {
		return nil, fmt.Errorf("bus: lease time %s: at least 1s", ttl)
	}
	if existing, err := b.js.KeyValue(ctx, b.streamPrefix+bucket); err == nil {
		st, err := existing.Status(ctx)
		if err != nil {
			return nil, fmt.Errorf("bus: lease bucket %s on %s: %w", bucket, b.shown, redact.Wrap(err, b.url))
		}
		if held := st.TTL(); held != ttl && held >= time.Second {
			b.log.Warn("the lease bucket holds another lease time than this node's; the bucket's holds", "bucket", bucket, "bucketLease", held.String(), "nodeLease", ttl.String())
			ttl = held
		}
	} else if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, fmt.Errorf("bus: lease bucket %s on %s: %w", bucket, b.shown, redact.Wrap(err, b.url))
	}
	kv, err := b.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: b.streamPrefix + bucket, Description: "leases: which node runs what", TTL: ttl, History: 1,
		Storage: jetstream.MemoryStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("bus: lease bucket %s on %s: %w", bucket, b.shown, redact.Wrap(err, b.url))
	}
	nodes, err := b.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: b.streamPrefix + bucket + "_NODES", Description: "the live nodes sharing the leases of " + bucket, TTL: ttl, History: 1,
		Storage: jetstream.MemoryStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("bus: lease bucket %s_NODES on %s: %w", bucket, b.shown, redact.Wrap(err, b.url))
	}
	return &Leases{kv: kv, nodes: nodes, node: node, ttl: ttl, revs: map[string]uint64{}}, nil
}

// Node is the node this Leases acquires for.
func (l *Leases) Node() string { return l.node }

// TTL is how long a lease lasts without renewal.
func (l *Leases) TTL() time.Duration { return l.ttl }

// leaseKey is name as a bucket key (hex: any name is a valid key).
func leaseKey(name string) string { return hex.EncodeToString([]byte(name)) }

// Acquire takes the lease name for this node unless another node holds
// it, and returns its holder: this node's id when it holds it now.
func (l *Leases) Acquire(ctx context.Context, name string) (string, error) {
	key := leaseKey(name)
	for range 3 {
		rev, err := l.kv.Create(ctx, key, []byte(l.node))
		if err == nil {
			l.setRev(name, rev)
			return l.node, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return "", fmt.Errorf("bus: acquire lease %s: %w", name, err)
		}
		e, err := l.kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // expired meanwhile
		}
		if err != nil {
			return "", fmt.Errorf("bus: read lease %s: %w", name, err)
		}
		holder := string(e.Value())
		if holder == l.node {
			// Held under this node's name (by this process, or by the
			// process of the same id before a restart): keep it.
			l.setRev(name, e.Revision())
		}
		return holder, nil
	}
	return "", fmt.Errorf("bus: acquire lease %s: it keeps changing hands", name)
}

// Renew extends this node's lease name; false when it is lost (another
// node holds it now).
func (l *Leases) Renew(ctx context.Context, name string) (bool, error) {
	l.mu.Lock()
	rev, held := l.revs[name]
	l.mu.Unlock()
	if held {
		next, err := l.kv.Update(ctx, leaseKey(name), []byte(l.node), rev)
		if err == nil {
			l.setRev(name, next)
			return true, nil
		}
		if !isWrongRevision(err) {
			return false, fmt.Errorf("bus: renew lease %s: %w", name, err)
		}
	}
	// Expired (and maybe taken): held again only if nobody took it.
	holder, err := l.Acquire(ctx, name)
	if err != nil {
		return false, err
	}
	if holder != l.node {
		l.forget(name)
		return false, nil
	}
	return true, nil
}

// Release gives up this node's lease name, so that another node may take
// it at once.
func (l *Leases) Release(ctx context.Context, name string) error {
	l.mu.Lock()
	rev, held := l.revs[name]
	delete(l.revs, name)
	l.mu.Unlock()
	if !held {
		return nil
	}
	err := l.kv.Delete(ctx, leaseKey(name), jetstream.LastRevision(rev))
	if err != nil && !isWrongRevision(err) && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("bus: release lease %s: %w", name, err)
	}
	return nil
}

// Holder returns the node holding the lease name, "" when none does.
func (l *Leases) Holder(ctx context.Context, name string) (string, error) {
	e, err := l.kv.Get(ctx, leaseKey(name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("bus: read lease %s: %w", name, err)
	}
	return string(e.Value()), nil
}

// Live marks this node alive for TTL and returns the nodes alive now
// (marked within TTL), this one included, sorted: a node that calls Live
// more often than TTL is seen by every other.
func (l *Leases) Live(ctx context.Context) ([]string, error) {
	if _, err := l.nodes.Put(ctx, leaseKey(l.node), []byte(l.node)); err != nil {
		return nil, fmt.Errorf("bus: mark node %s alive: %w", l.node, err)
	}
	keys, err := l.nodes.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("bus: list the live nodes: %w", err)
	}
	var live []string
	for key := range keys.Keys() { // closed when all are read
		if name, err := hex.DecodeString(key); err == nil {
			live = append(live, string(name))
		}
	}
	slices.Sort(live)
	return live, nil
}

// Leave takes this node out of the live nodes at once (a clean stop), so
// that the others need not wait TTL for its mark to expire before they
// count it gone.
func (l *Leases) Leave(ctx context.Context) error {
	err := l.nodes.Delete(ctx, leaseKey(l.node))
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("bus: mark node %s gone: %w", l.node, err)
	}
	return nil
}

func (l *Leases) setRev(name string, rev uint64) {
	l.mu.Lock()
	l.revs[name] = rev
	l.mu.Unlock()
}

func (l *Leases) forget(name string) {
	l.mu.Lock()
	delete(l.revs, name)
	l.mu.Unlock()
}

// isWrongRevision reports JetStream's answer to a write whose expected
// last revision is not the key's.
func isWrongRevision(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
		return true
	}
	return errors.Is(err, jetstream.ErrKeyExists)
}

// Serve answers the requests sent to subject (Request) with handle, each
// in a goroutine of its own, until ctx ends. A request for which handle
// reports false gets no answer from this process: with several serving
// one subject, the first that answers wins.
func (b *NATS) Serve(ctx context.Context, subject string, handle func(ctx context.Context, req []byte) ([]byte, bool)) error {
	sub, err := b.nc.Subscribe(b.subject(subject), func(m *nats.Msg) {
		go func() {
			answer, ok := handle(ctx, m.Data)
			if !ok {
				return
			}
			if err := m.Respond(answer); err != nil {
				b.log.Warn("bus: answer a request", "subject", subject, "err", err)
			}
		}()
	})
	if err != nil {
		return fmt.Errorf("bus: serve %s: %w", subject, err)
	}
	go func() {
		<-ctx.Done()
		_ = sub.Unsubscribe()
	}()
	flushCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := b.nc.FlushWithContext(flushCtx); err != nil {
		return fmt.Errorf("bus: serve %s: %w", subject, err)
	}
	return nil
}

// Request sends req to the processes that Serve subject and returns the
// first answer; nobody serving it is an error at once (nats.ErrNoResponders),
// nobody answering one when ctx ends.
func (b *NATS) Request(ctx context.Context, subject string, req []byte) ([]byte, error) {
	m, err := b.nc.RequestWithContext(ctx, b.subject(subject), req)
	if err != nil {
		return nil, fmt.Errorf("bus: request %s: %w", subject, err)
	}
	return m.Data, nil
}

// Announce publishes data to whoever Listens on subject now (core NATS:
// nothing kept, nothing acknowledged).
func (b *NATS) Announce(subject string, data []byte) error {
	if err := b.nc.Publish(b.subject(subject), data); err != nil {
		return fmt.Errorf("bus: announce on %s: %w", subject, err)
	}
	return nil
}

// Listen calls fn with every message Announced on subject until ctx ends.
func (b *NATS) Listen(ctx context.Context, subject string, fn func([]byte)) error {
	sub, err := b.nc.Subscribe(b.subject(subject), func(m *nats.Msg) { fn(m.Data) })
	if err != nil {
		return fmt.Errorf("bus: listen on %s: %w", subject, err)
	}
	go func() {
		<-ctx.Done()
		_ = sub.Unsubscribe()
	}()
	return nil
}
