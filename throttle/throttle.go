package throttle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
)

// Limits are the three throttles of a namespace. Zero means unlimited.
type Limits struct {
	InvocationsPerMinute  int
	ConcurrentInvocations int
	FiresPerMinute        int
}

// OpenWhiskLimits are OpenWhisk's defaults: 60 invocations a minute, 30
// concurrent, 60 trigger fires a minute.
func OpenWhiskLimits() Limits {
	return Limits{InvocationsPerMinute: 60, ConcurrentInvocations: 30, FiresPerMinute: 60}
}

// Validate checks that no limit is negative; messages name the limit.
func (l Limits) Validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{
		{"invocations per minute", l.InvocationsPerMinute},
		{"concurrent invocations", l.ConcurrentInvocations},
		{"fires per minute", l.FiresPerMinute},
	} {
		if f.v < 0 {
			return fmt.Errorf("throttle %s: %d must be 0 (unlimited) or more", f.name, f.v)
		}
	}
	return nil
}

// Override returns l with the namespace's own limits applied.
func (l Limits) Override(o *entity.NamespaceLimits) Limits {
	if o == nil {
		return l
	}
	if o.InvocationsPerMinute != nil {
		l.InvocationsPerMinute = *o.InvocationsPerMinute
	}
	if o.ConcurrentInvocations != nil {
		l.ConcurrentInvocations = *o.ConcurrentInvocations
	}
	if o.FiresPerMinute != nil {
		l.FiresPerMinute = *o.FiresPerMinute
	}
	return l
}

// Subjects looks up a namespace's subject for its own limits; store.Store
// is one.
type Subjects interface {
	Subject(ctx context.Context, namespace string) (entity.Subject, error)
}

// Config configures a Throttle.
type Config struct {
	// Defaults apply to namespaces without limits of their own.
	Defaults Limits
	// OverrideTTL is how long a namespace's own limits are trusted
	// before they are read again.
	OverrideTTL time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Refused, when not nil, is told of each refusal: the namespace, the
	// refusal, and whether it refused a trigger fire (else an invocation).
	Refused func(ns string, e *Error, fire bool)
}

// Throttle keeps the counters of every namespace.
type Throttle struct {
	cfg      Config
	subjects Subjects // nil: no overrides
	log      *slog.Logger
	// namespaces maps a namespace to its *counters; entries are never
	// removed (one small struct per namespace that ever invoked).
	namespaces sync.Map
	// node and peers are set by Share (a cluster), before any check.
	node  string
	peers *peers
}

// counters are one namespace's.
type counters struct {
	inFlight atomic.Int64

	mu sync.Mutex // guards the fields below
	// minute is the window the counts belong to (minutes since the epoch).
	minute             int64
	invocations, fires int
	limits             Limits
	limitsExpire       time.Time
}

// New returns a throttle. subjects, when not nil, supplies the namespaces'
// own limits.
func New(cfg Config, subjects Subjects, log *slog.Logger) *Throttle {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Throttle{cfg: cfg, subjects: subjects, log: log}
}

// Error is a refusal: a namespace is over one of its limits. Its message is
// OpenWhisk's.
type Error struct {
	// Concurrent is true for the concurrent-invocations limit, false for a
	// per-minute one.
	Concurrent     bool
	Count, Allowed int
}

func (e *Error) Error() string {
	if e.Concurrent {
		return fmt.Sprintf("Too many concurrent requests in flight (count: %d, allowed: %d).", e.Count, e.Allowed)
	}
	return fmt.Sprintf("Too many requests in the last minute (count: %d, allowed: %d).", e.Count, e.Allowed)
}

// CheckInvoke counts one invocation of ns in the current minute and
// refuses it when the minute's count passes the limit or when the
// namespace already has as many activations in flight as it may. As in
// OpenWhisk, a refused request counts too, and the rate is checked first.
func (t *Throttle) CheckInvoke(ctx context.Context, ns string) error {
	c, now := t.counters(ns), t.cfg.Now()
	lim := t.limitsOf(ctx, ns, c, now)
	if lim.InvocationsPerMinute <= 0 && lim.ConcurrentInvocations <= 0 {
		return nil
	}
	invocations, _, inFlight := t.others(ns, now)
	n := c.count(now, &c.invocations) + invocations
	if lim.InvocationsPerMinute > 0 && n > lim.InvocationsPerMinute {
		return t.refuse(ns, &Error{Count: n, Allowed: lim.InvocationsPerMinute}, false)
	}
	if lim.ConcurrentInvocations > 0 {
		if n := c.inFlight.Load() + int64(inFlight); n >= int64(lim.ConcurrentInvocations) {
			return t.refuse(ns, &Error{Concurrent: true, Count: int(n), Allowed: lim.ConcurrentInvocations}, false)
		}
	}
	return nil
}

// CheckFire counts one trigger fire of ns in the current minute and
// refuses it when the count passes the limit.
func (t *Throttle) CheckFire(ctx context.Context, ns string) error {
	c, now := t.counters(ns), t.cfg.Now()
	lim := t.limitsOf(ctx, ns, c, now)
	if lim.FiresPerMinute <= 0 {
		return nil
	}
	_, fires, _ := t.others(ns, now)
	if n := c.count(now, &c.fires) + fires; n > lim.FiresPerMinute {
		return t.refuse(ns, &Error{Count: n, Allowed: lim.FiresPerMinute}, true)
	}
	return nil
}

// refuse tells Config.Refused of e and returns it.
func (t *Throttle) refuse(ns string, e *Error, fire bool) error {
	if t.cfg.Refused != nil {
		t.cfg.Refused(ns, e, fire)
	}
	return e
}

// Started counts an activation of ns as in flight until Finished.
func (t *Throttle) Started(ns string) { t.counters(ns).inFlight.Add(1) }

// Finished ends an activation Started for ns.
func (t *Throttle) Finished(ns string) { t.counters(ns).inFlight.Add(-1) }

// InFlight is the number of activations of ns in flight.
func (t *Throttle) InFlight(ns string) int { return int(t.counters(ns).inFlight.Load()) }

func (t *Throttle) counters(ns string) *counters {
	if c, ok := t.namespaces.Load(ns); ok {
		return c.(*counters)
	}
	c, _ := t.namespaces.LoadOrStore(ns, &counters{limits: t.cfg.Defaults})
	return c.(*counters)
}

// count adds one to *n in the current one-minute window, resetting the
// window's counts when the minute changed, and returns the new count.
// Windows are fixed clock minutes, as OpenWhisk's RateThrottler keeps them.
func (c *counters) count(now time.Time, n *int) int {
	minute := now.Unix() / 60
	c.mu.Lock()
	if minute != c.minute {
		c.minute, c.invocations, c.fires = minute, 0, 0
	}
	*n++
	v := *n
	c.mu.Unlock()
	return v
}

// limitsOf returns the limits of ns, reading its own limits again when
// the cached ones expired. A failed read keeps the previous limits.
func (t *Throttle) limitsOf(ctx context.Context, ns string, c *counters, now time.Time) Limits {
	if t.subjects == nil {
		return t.cfg.Defaults
	}
	c.mu.Lock()
	lim, fresh := c.limits, now.Before(c.limitsExpire)
	c.mu.Unlock()
	if fresh {
		return lim
	}
	sub, err := t.subjects.Subject(ctx, ns)
	switch {
	case err == nil:
		lim = t.cfg.Defaults.Override(sub.Limits)
	case errors.Is(err, store.ErrNotFound):
		lim = t.cfg.Defaults
	default:
		t.log.Warn("read a namespace's limits; keeping the previous ones", "namespace", ns, "err", err)
	}
	c.mu.Lock()
	c.limits, c.limitsExpire = lim, now.Add(t.cfg.OverrideTTL)
	c.mu.Unlock()
	return lim
}
