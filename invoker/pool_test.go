package invoker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeBackend records container operations; the pool's logic is what is
// under test here, real backends run in their own packages' tests.
type fakeBackend struct {
	mu        sync.Mutex
	created   int
	destroyed chan string
	paused    chan string
	failNext  bool
}

func newFakeBackend() *fakeBackend {
	return &fakeBackend{destroyed: make(chan string, 100), paused: make(chan string, 100)}
}

func (b *fakeBackend) Name() string { return "fake" }
func (b *fakeBackend) Create(_ context.Context, spec Spec) (Container, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failNext {
		b.failNext = false
		return nil, errors.New("no capacity")
	}
	b.created++
	return &fakeContainer{id: fmt.Sprintf("c%d", b.created), b: b, logs: NewLogCollector()}, nil
}
func (b *fakeBackend) Close(context.Context) error { return nil }

type fakeContainer struct {
	id     string
	b      *fakeBackend
	logs   *LogCollector
	mu     sync.Mutex
	frozen bool
	dead   atomic.Bool
}

func (c *fakeContainer) ID() string          { return c.id }
func (c *fakeContainer) URL() string         { return "http://" + c.id }
func (c *fakeContainer) Logs() *LogCollector { return c.logs }
func (c *fakeContainer) Pause(context.Context) error {
	c.mu.Lock()
	c.frozen = true
	c.mu.Unlock()
	c.b.paused <- c.id
	return nil
}
func (c *fakeContainer) Resume(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.frozen {
		return errors.New("resume of a running container")
	}
	c.frozen = false
	return nil
}
func (c *fakeContainer) Destroy(context.Context) error { c.b.destroyed <- c.id; return nil }
func (c *fakeContainer) Alive() bool                   { return !c.dead.Load() }

func testPool(b Backend, memory int, grace, idle time.Duration) *Pool {
	return NewPool(b, PoolConfig{UserMemoryMB: memory, PauseGrace: grace, IdleTimeout: idle}, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func acquire(t *testing.T, p *Pool, key string, mem, conc int) (*Slot, bool) {
	t.Helper()
	s, cold, err := p.Acquire(context.Background(), key, Spec{Kind: "nodejs:20", MemoryMB: mem, Action: key}, conc)
	if err != nil {
		t.Fatal(err)
	}
	return s, cold
}

func TestPoolColdWarmPausedResumed(t *testing.T) {
	b := newFakeBackend()
	p := testPool(b, 1024, time.Millisecond, time.Hour)
	s1, cold := acquire(t, p, "a", 256, 1)
	if !cold {
		t.Fatal("first acquire should be cold")
	}
	p.Initialized(s1)
	p.Release(s1, true)
	<-b.paused // the pause grace passed
	s2, cold := acquire(t, p, "a", 256, 1)
	if cold || s2 != s1 {
		t.Fatal("second acquire should reuse the paused container")
	}
	if s1.c.(*fakeContainer).frozen {
		t.Fatal("reused container was not resumed")
	}
	p.Release(s2, true)
	if st := p.Stats(); st.Containers != 1 || st.UsedMB != 256 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestPoolNoReuseAcrossActionsOrWhileBusy(t *testing.T) {
	b := newFakeBackend()
	p := testPool(b, 1024, time.Hour, time.Hour)
	s1, _ := acquire(t, p, "a@1", 128, 1)
	p.Initialized(s1)
	s2, cold := acquire(t, p, "a@1", 128, 1)
	if !cold || s2 == s1 {
		t.Fatal("a busy container with concurrency 1 was shared")
	}
	p.Initialized(s2)
	p.Release(s1, true)
	s3, cold := acquire(t, p, "a@2", 128, 1)
	if !cold || s3 == s1 {
		t.Fatal("a container was reused for another revision")
	}
}

func TestPoolConcurrency(t *testing.T) {
	b := newFakeBackend()
	p := testPool(b, 1024, time.Hour, time.Hour)
	s1, _ := acquire(t, p, "a", 128, 3)
	p.Initialized(s1)
	for range 2 {
		if s, cold := acquire(t, p, "a", 128, 3); cold || s != s1 {
			t.Fatal("container with spare concurrency was not shared")
		}
	}
	if _, cold := acquire(t, p, "a", 128, 3); !cold {
		t.Fatal("a fourth activation overloaded the container")
	}
}

func TestPoolEvictsLeastRecentlyUsedIdle(t *testing.T) {
	b := newFakeBackend()
	p := testPool(b, 512, time.Hour, time.Hour)
	old, _ := acquire(t, p, "old", 256, 1)
	p.Initialized(old)
	p.Release(old, true)
	recent, _ := acquire(t, p, "recent", 256, 1)
	p.Initialized(recent)
	p.Release(recent, true)
	acquire(t, p, "new", 256, 1)
	if got := <-b.destroyed; got != old.c.ID() {
		t.Fatalf("evicted %s, want the least recently used %s", got, old.c.ID())
	}
	if st := p.Stats(); st.UsedMB != 512 || st.Containers != 2 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestPoolWaitsForMemory(t *testing.T) {
	b := newFakeBackend()
	p := testPool(b, 256, time.Hour, time.Hour)
	busy, _ := acquire(t, p, "a", 256, 1)
	p.Initialized(busy)
	got := make(chan error, 1)
	go func() {
		_, _, err := p.Acquire(context.Background(), "b", Spec{MemoryMB: 256}, 1)
		got <- err
	}()
	p.Release(busy, true) // idle now, so the waiter may evict it
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := p.Acquire(ctx, "c", Spec{MemoryMB: 256}, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("acquire with a full pool and a dead context = %v", err)
	}
	if _, _, err := p.Acquire(context.Background(), "d", Spec{MemoryMB: 1024}, 1); !errors.Is(err, ErrMemory) {
		t.Fatalf("acquire over the budget = %v", err)
	}
}

func TestPoolRemovesUnhealthyAndIdle(t *testing.T) {
	b := newFakeBackend()
	p := testPool(b, 1024, time.Millisecond, 5*time.Millisecond)
	s, _ := acquire(t, p, "a", 128, 1)
	p.Initialized(s)
	p.Release(s, false)
	<-b.destroyed
	s, _ = acquire(t, p, "a", 128, 1)
	p.Initialized(s)
	p.Release(s, true)
	<-b.destroyed // removed after the idle timeout
	if st := p.Stats(); st.Containers != 0 || st.UsedMB != 0 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestPoolCreateFailureFreesMemory(t *testing.T) {
	b := newFakeBackend()
	b.failNext = true
	p := testPool(b, 128, time.Hour, time.Hour)
	if _, _, err := p.Acquire(context.Background(), "a", Spec{MemoryMB: 128}, 1); err == nil {
		t.Fatal("want an error")
	}
	if st := p.Stats(); st.UsedMB != 0 || st.Containers != 0 {
		t.Fatalf("stats = %+v", st)
	}
}

// TestPoolWaiterSharesAnInitialisedContainer: with the memory budget used
// by one cold container, a second Acquire waits; it must take the container
// once it is initialised with spare concurrency, not wait for memory that a
// busy pool never frees (a trigger fanning out to many rules does this).
func TestPoolWaiterSharesAnInitialisedContainer(t *testing.T) {
	b := newFakeBackend()
	p := testPool(b, 128, time.Hour, time.Hour)
	s1, _ := acquire(t, p, "a", 128, 5)
	got := make(chan *Slot)
	go func() {
		s, _, err := p.Acquire(context.Background(), "a", Spec{Kind: "nodejs:20", MemoryMB: 128, Action: "a"}, 5)
		if err != nil {
			t.Error(err)
		}
		got <- s
	}()
	p.Initialized(s1)
	select {
	case s := <-got:
		if s != s1 {
			t.Fatal("the waiter did not share the initialised container")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiter was not woken when the container was initialised")
	}
}

// waitFor polls cond (the pool fills stem cells in the background).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func (b *fakeBackend) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.created
}

func TestPoolStemCells(t *testing.T) {
	b := newFakeBackend()
	stemPool := func(memory int) *Pool {
		p := NewPool(b, PoolConfig{
			UserMemoryMB: memory, PauseGrace: time.Hour, IdleTimeout: time.Hour,
			StemCells: []StemCell{{Kind: "nodejs:20", MemoryMB: 256, Count: 2}},
		}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		t.Cleanup(func() { p.Close(context.Background()) })
		waitFor(t, "two stem cells", func() bool { return p.Stats().StemCells == 2 })
		return p
	}
	p := stemPool(4096)
	if st := p.Stats(); st.UsedMB != 512 || st.Containers != 0 {
		t.Fatalf("stats with two stem cells = %+v", st)
	}

	tests := []struct {
		name    string
		spec    Spec
		wantHit bool
	}{
		{"matching kind and memory", Spec{Kind: "nodejs:20", MemoryMB: 256}, true},
		{"other memory", Spec{Kind: "nodejs:20", MemoryMB: 128}, false},
		{"other kind", Spec{Kind: "python:3", MemoryMB: 256}, false},
		{"blackbox", Spec{Kind: "blackbox", Image: "x", MemoryMB: 256}, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			waitFor(t, "refilled stem cells", func() bool { return p.Stats().StemCells == 2 })
			before := b.count()
			s, cold, err := p.Acquire(context.Background(), fmt.Sprintf("k%d", i), tt.spec, 1)
			if err != nil {
				t.Fatal(err)
			}
			if !cold {
				t.Fatal("a container taken for a new action must be initialised: cold")
			}
			// A hit is a container made before Acquire (the fake numbers
			// them c1, c2...); the refiller may already be making the next.
			var n int
			if _, err := fmt.Sscanf(s.c.ID(), "c%d", &n); err != nil {
				t.Fatal(err)
			}
			hit := n <= before
			if hit != tt.wantHit {
				t.Fatalf("stem cell hit = %v, want %v", hit, tt.wantHit)
			}
			p.Initialized(s)
			p.Release(s, true)
		})
	}
	// With the budget full, a stem cell is evicted before any idle action
	// container, and not refilled while memory is short.
	p = stemPool(1024)
	idle, _ := acquire(t, p, "idle", 256, 1)
	p.Initialized(idle)
	p.Release(idle, true)
	waitFor(t, "refilled stem cells", func() bool { return p.Stats().StemCells == 2 })
	if _, _, err := p.Acquire(context.Background(), "big", Spec{Kind: "python:3", MemoryMB: 512}, 1); err != nil {
		t.Fatal(err)
	}
	// 256 (idle) + 512 (stem cells) + 512 (big) > 1024: one stem cell goes.
	if got := p.Stats(); got.Containers != 2 || got.StemCells != 1 || got.UsedMB != 1024 {
		t.Fatalf("after an eviction: %+v: want one stem cell evicted, the idle container kept", got)
	}
}

func TestPoolStemCellRetryAfterFailure(t *testing.T) {
	b := newFakeBackend()
	b.failNext = true
	p := NewPool(b, PoolConfig{
		UserMemoryMB: 1024, PauseGrace: time.Hour, IdleTimeout: time.Hour, RefillRetry: 5 * time.Millisecond,
		StemCells: []StemCell{{Kind: "nodejs:20", MemoryMB: 256, Count: 1}},
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	waitFor(t, "a stem cell after a failed creation", func() bool { return p.Stats().StemCells == 1 })
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.destroyed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not destroy the stem cell")
	}
}

// TestPoolSkipsDeadContainers: a container its engine stopped (a dockerd
// restart) is removed, not handed out.
func TestPoolSkipsDeadContainers(t *testing.T) {
	b := newFakeBackend()
	p := testPool(b, 1024, time.Hour, time.Hour)
	s1, _ := acquire(t, p, "a", 128, 1)
	p.Initialized(s1)
	p.Release(s1, true)
	s1.c.(*fakeContainer).dead.Store(true)
	s2, cold := acquire(t, p, "a", 128, 1)
	if !cold || s2 == s1 {
		t.Fatal("a dead container was reused")
	}
	if got := <-b.destroyed; got != s1.c.ID() {
		t.Fatalf("destroyed %s, want the dead %s", got, s1.c.ID())
	}
}

// TestPoolResumeFailureFallsBackToCold: a paused container that cannot be
// thawed is dropped and the activation gets another one.
func TestPoolResumeFailureFallsBackToCold(t *testing.T) {
	b := newFakeBackend()
	p := testPool(b, 1024, time.Millisecond, time.Hour)
	s1, _ := acquire(t, p, "a", 128, 1)
	p.Initialized(s1)
	p.Release(s1, true)
	<-b.paused
	fc := s1.c.(*fakeContainer)
	fc.mu.Lock()
	fc.frozen = false // Resume now fails: "resume of a running container"
	fc.mu.Unlock()
	s2, cold := acquire(t, p, "a", 128, 1)
	if !cold || s2 == s1 {
		t.Fatal("a container that failed to resume was handed out")
	}
}
