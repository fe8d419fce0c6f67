package throttle

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// subjects is a map of namespaces to their own limits.
type subjects struct {
	mu     sync.Mutex
	limits map[string]*entity.NamespaceLimits
	reads  int
}

func (s *subjects) Subject(_ context.Context, ns string) (entity.Subject, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	l, ok := s.limits[ns]
	if !ok {
		return entity.Subject{}, store.ErrNotFound
	}
	return entity.Subject{Namespace: ns, Limits: l}, nil
}

func intp(n int) *int { return &n }

func newTest(defaults Limits, subs Subjects) (*Throttle, *clock) {
	clk := &clock{now: time.Date(2024, 5, 1, 12, 0, 10, 0, time.UTC)}
	t := New(Config{Defaults: defaults, OverrideTTL: time.Minute, Now: clk.Now}, subs, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return t, clk
}

func TestRateLimits(t *testing.T) {
	tests := []struct {
		name  string
		lim   Limits
		check func(*Throttle, context.Context, string) error
	}{
		{"Invocations", Limits{InvocationsPerMinute: 3}, (*Throttle).CheckInvoke},
		{"Fires", Limits{FiresPerMinute: 3}, (*Throttle).CheckFire},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th, clk := newTest(tt.lim, nil)
			ctx := t.Context()
			for i := range 3 {
				if err := tt.check(th, ctx, "alice"); err != nil {
					t.Fatalf("request %d: %v", i+1, err)
				}
			}
			for _, want := range []string{
				"Too many requests in the last minute (count: 4, allowed: 3).",
				"Too many requests in the last minute (count: 5, allowed: 3).",
			} {
				err := tt.check(th, ctx, "alice")
				var te *Error
				if !errors.As(err, &te) || err.Error() != want {
					t.Fatalf("over the limit: %v, want %q", err, want)
				}
			}
			if err := tt.check(th, ctx, "bob"); err != nil {
				t.Fatalf("another namespace is throttled with alice: %v", err)
			}
			// The window is the clock minute: 12:00:59 is still in it,
			// 12:01:00 starts a new one.
			clk.Add(49 * time.Second)
			if err := tt.check(th, ctx, "alice"); err == nil {
				t.Fatal("a request in the same minute passed")
			}
			clk.Add(time.Second)
			for i := range 3 {
				if err := tt.check(th, ctx, "alice"); err != nil {
					t.Fatalf("request %d of the next minute: %v", i+1, err)
				}
			}
		})
	}
}

func TestInvocationsAndFiresCountSeparately(t *testing.T) {
	th, _ := newTest(Limits{InvocationsPerMinute: 1, FiresPerMinute: 1}, nil)
	if err := th.CheckInvoke(t.Context(), "alice"); err != nil {
		t.Fatal(err)
	}
	if err := th.CheckFire(t.Context(), "alice"); err != nil {
		t.Fatalf("a fire after an invocation: %v", err)
	}
}

func TestConcurrentLimit(t *testing.T) {
	th, _ := newTest(Limits{ConcurrentInvocations: 2}, nil)
	ctx := t.Context()
	for range 2 {
		if err := th.CheckInvoke(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		th.Started("alice")
	}
	err := th.CheckInvoke(ctx, "alice")
	if want := "Too many concurrent requests in flight (count: 2, allowed: 2)."; err == nil || err.Error() != want {
		t.Fatalf("third concurrent invocation: %v, want %q", err, want)
	}
	if err := th.CheckInvoke(ctx, "bob"); err != nil {
		t.Fatalf("bob is throttled by alice's activations: %v", err)
	}
	th.Finished("alice")
	if err := th.CheckInvoke(ctx, "alice"); err != nil {
		t.Fatalf("after one finished: %v", err)
	}
	if got := th.InFlight("alice"); got != 1 {
		t.Fatalf("InFlight = %d, want 1", got)
	}
}

func TestZeroIsUnlimited(t *testing.T) {
	th, _ := newTest(Limits{}, nil)
	th.Started("alice")
	for i := range 1000 {
		if err := th.CheckInvoke(t.Context(), "alice"); err != nil {
			t.Fatalf("invocation %d: %v", i, err)
		}
		if err := th.CheckFire(t.Context(), "alice"); err != nil {
			t.Fatalf("fire %d: %v", i, err)
		}
	}
}

func TestNamespaceOverrides(t *testing.T) {
	subs := &subjects{limits: map[string]*entity.NamespaceLimits{
		"tight": {InvocationsPerMinute: intp(1)},
		"free":  {InvocationsPerMinute: intp(0), FiresPerMinute: intp(0)},
		"plain": nil,
	}}
	th, clk := newTest(Limits{InvocationsPerMinute: 2, FiresPerMinute: 2}, subs)
	ctx := t.Context()
	tests := []struct {
		ns            string
		invokesPassed int
		firesPassed   int
	}{
		{"tight", 1, 2}, // only the invocation limit is its own
		{"free", 5, 5},  // 0 overrides the default to unlimited
		{"plain", 2, 2}, // a subject without limits has the defaults
		{"ghost", 2, 2}, // no subject at all: the defaults
	}
	for _, tt := range tests {
		t.Run(tt.ns, func(t *testing.T) {
			invokes, fires := 0, 0
			for range 5 {
				if th.CheckInvoke(ctx, tt.ns) == nil {
					invokes++
				}
				if th.CheckFire(ctx, tt.ns) == nil {
					fires++
				}
			}
			if invokes != tt.invokesPassed || fires != tt.firesPassed {
				t.Fatalf("passed %d invocations and %d fires, want %d and %d", invokes, fires, tt.invokesPassed, tt.firesPassed)
			}
		})
	}
	// The override is read once per TTL, then again.
	reads := subs.reads
	subs.mu.Lock()
	subs.limits["tight"] = &entity.NamespaceLimits{InvocationsPerMinute: intp(3)}
	subs.mu.Unlock()
	clk.Add(time.Minute)
	passed := 0
	for range 5 {
		if th.CheckInvoke(ctx, "tight") == nil {
			passed++
		}
	}
	if passed != 3 {
		t.Fatalf("after the TTL %d invocations passed, want the new limit 3", passed)
	}
	if subs.reads != reads+1 {
		t.Fatalf("read the subject %d times in one TTL, want once", subs.reads-reads)
	}
}

func TestValidate(t *testing.T) {
	if err := (Limits{InvocationsPerMinute: -1}).Validate(); err == nil || err.Error() != "throttle invocations per minute: -1 must be 0 (unlimited) or more" {
		t.Fatalf("Validate = %v", err)
	}
	if err := OpenWhiskLimits().Validate(); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkCheckInvoke(b *testing.B) {
	subs := &subjects{limits: map[string]*entity.NamespaceLimits{"alice": nil}}
	th := New(Config{Defaults: OpenWhiskLimits(), OverrideTTL: time.Minute}, subs, slog.New(slog.NewTextHandler(io.Discard, nil)))
	th.cfg.Defaults.InvocationsPerMinute = 1 << 30 // never refuse: measure the passing check
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := th.CheckInvoke(ctx, "alice"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkStartedFinished(b *testing.B) {
	th := New(Config{Defaults: OpenWhiskLimits()}, nil, nil)
	b.ReportAllocs()
	for b.Loop() {
		th.Started("alice")
		th.Finished("alice")
	}
}
