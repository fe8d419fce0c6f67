package invoker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
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
