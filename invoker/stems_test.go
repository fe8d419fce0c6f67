package invoker

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeClock is the demand's clock, moved by the test.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

var (
	node256 = StemCell{Kind: "nodejs:20", MemoryMB: 256}
	py512   = StemCell{Kind: "python:3", MemoryMB: 512}
)

// TestDemandPeaks: demand is the most starts of one burst bucket within
// the window, for a sequence of starts at known times.
func TestDemandPeaks(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		starts []time.Duration // offsets from t0, all of node256
		at     time.Duration
		want   int
	}{
		{"none", nil, 0, 0},
		{"a burst of five in one second", []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond, 900 * time.Millisecond}, time.Second, 5},
		{"one a second for ten seconds", seconds(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), 10 * time.Second, 1},
		{"the busiest second counts", append(seconds(0, 1, 2), 5*time.Second, 5*time.Second+time.Millisecond, 5*time.Second+2*time.Millisecond), 6 * time.Second, 3},
		{"a burst still in the window", seconds(0, 0, 0, 0), 59 * time.Second, 4},
		{"a burst past the window", seconds(0, 0, 0, 0), 61 * time.Second, 0},
		{"an old burst gone, a newer start kept", seconds(0, 0, 0, 30), 61 * time.Second, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDemand(time.Second, time.Minute)
			for _, off := range tt.starts {
				d.note(node256, t0.Add(off))
			}
			if got := d.peaks(t0.Add(tt.at))[node256]; got != tt.want {
				t.Fatalf("peak = %d, want %d", got, tt.want)
			}
		})
	}
}

func seconds(s ...int) []time.Duration {
	out := make([]time.Duration, len(s))
	for i, n := range s {
		out[i] = time.Duration(n) * time.Second
	}
	return out
}

// TestStemTargets: the floor, raised to demand, capped per shape and by
// the stem cells' memory in total.
func TestStemTargets(t *testing.T) {
	on := StemDemand{Max: 8, MemoryMB: 4096}
	tests := []struct {
		name   string
		cells  []StemCell
		peaks  map[StemCell]int
		demand StemDemand
		want   map[StemCell]int
	}{
		{"demand off keeps the counts", []StemCell{{Kind: "nodejs:20", MemoryMB: 256, Count: 2}}, map[StemCell]int{node256: 7}, StemDemand{}, map[StemCell]int{node256: 2}},
		{"no demand: the floor", []StemCell{{Kind: "nodejs:20", MemoryMB: 256, Count: 2}}, nil, on, map[StemCell]int{node256: 2}},
		{"demand below the floor", []StemCell{{Kind: "nodejs:20", MemoryMB: 256, Count: 2}}, map[StemCell]int{node256: 1}, on, map[StemCell]int{node256: 2}},
		{"demand above the floor", []StemCell{{Kind: "nodejs:20", MemoryMB: 256, Count: 2}}, map[StemCell]int{node256: 5}, on, map[StemCell]int{node256: 5}},
		{"capped by Max", []StemCell{{Kind: "nodejs:20", MemoryMB: 256, Count: 2}}, map[StemCell]int{node256: 20}, on, map[StemCell]int{node256: 8}},
		{"capped by the shape's own Max", []StemCell{{Kind: "nodejs:20", MemoryMB: 256, Count: 1, Max: 3}}, map[StemCell]int{node256: 20}, on, map[StemCell]int{node256: 3}},
		{"a floor above Max holds", []StemCell{{Kind: "nodejs:20", MemoryMB: 256, Count: 10}}, map[StemCell]int{node256: 20}, on, map[StemCell]int{node256: 10}},
		{"a floor of zero, demand-driven", []StemCell{{Kind: "python:3", MemoryMB: 512}}, map[StemCell]int{py512: 3}, on, map[StemCell]int{py512: 3}},
		{"a shape not configured gets none", []StemCell{{Kind: "nodejs:20", MemoryMB: 256, Count: 1}}, map[StemCell]int{py512: 3}, on, map[StemCell]int{node256: 1}},
		{
			"memory shared one cell at a time", // 256 + 512 + 256 + 512 = 1536 of 1600, no room for 512 or 256 more
			[]StemCell{{Kind: "nodejs:20", MemoryMB: 256}, {Kind: "python:3", MemoryMB: 512}},
			map[StemCell]int{node256: 8, py512: 8}, StemDemand{Max: 8, MemoryMB: 1600},
			map[StemCell]int{node256: 2, py512: 2},
		},
		{
			"floors count against the memory but always hold",
			[]StemCell{{Kind: "nodejs:20", MemoryMB: 256, Count: 4}},
			map[StemCell]int{node256: 8}, StemDemand{Max: 8, MemoryMB: 512},
			map[StemCell]int{node256: 4},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stemTargets(tt.cells, tt.peaks, tt.demand); !maps.Equal(got, tt.want) {
				t.Fatalf("targets = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestPoolStemsFollowDemand: a burst of new actions raises the stem cells
// of their shape to the burst's size, so that the next burst of as many
// new actions takes stem cells only; once the burst ages out of the
// window the spares above the floor go.
func TestPoolStemsFollowDemand(t *testing.T) {
	b := newFakeBackend()
	clock := &fakeClock{now: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	p := NewPool(b, PoolConfig{
		UserMemoryMB: 16384, PauseGrace: time.Hour, IdleTimeout: time.Hour,
		StemCells:  []StemCell{{Kind: "nodejs:20", MemoryMB: 256, Count: 1}},
		StemDemand: StemDemand{Max: 20, Window: time.Minute, Burst: time.Second, MemoryMB: 8192, Now: clock.Now},
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(func() { p.Close(context.Background()) })
	waitFor(t, "the floor's stem cell", func() bool { return p.Stats().StemCells == 1 })

	burst := func(round int) (stems int) {
		t.Helper()
		var slots []*Slot
		for i := range 20 {
			s, _ := acquire(t, p, fmt.Sprintf("r%d-a%d", round, i), 256, 1)
			if s.Start() == StartStem {
				stems++
			}
			slots = append(slots, s)
		}
		for _, s := range slots {
			p.Initialized(s)
			p.Release(s, true)
		}
		return stems
	}
	burst(1) // the first burst finds the floor only; the refill races it
	waitFor(t, "20 stem cells after a burst of 20", func() bool { return p.Stats().StemCells == 20 })
	if got := burst(2); got != 20 {
		t.Fatalf("the second burst took %d stem cells, want 20", got)
	}
	waitFor(t, "20 stem cells again", func() bool { return p.Stats().StemCells == 20 })

	clock.advance(2 * time.Minute)
	p.wantRefill()
	waitFor(t, "the floor once demand aged out", func() bool { return p.Stats().StemCells == 1 })
}

// TestPoolStemDemandOnlyConfiguredShapes: cold starts of a shape without
// a configured pool make no stem cells.
func TestPoolStemDemandOnlyConfiguredShapes(t *testing.T) {
	b := newFakeBackend()
	p := NewPool(b, PoolConfig{
		UserMemoryMB: 4096, PauseGrace: time.Hour, IdleTimeout: time.Hour,
		StemCells:  []StemCell{{Kind: "python:3", MemoryMB: 512}},
		StemDemand: StemDemand{Max: 4},
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(func() { p.Close(context.Background()) })
	for i := range 3 {
		acquire(t, p, fmt.Sprintf("n%d", i), 256, 1) // nodejs:20 256: not configured
	}
	if _, _, err := p.Acquire(context.Background(), "py", Spec{Kind: "python:3", MemoryMB: 512, Action: "py"}, 1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a python stem cell from one cold start", func() bool { return p.Stats().Kinds["python:3"].StemCells == 1 })
	if k := p.Stats().Kinds["nodejs:20"]; k.StemCells != 0 {
		t.Fatalf("nodejs:20 = %+v, want no stem cells", k)
	}
}

// heldBackend's Create blocks until hold is closed, and it logs the order
// of creations, destructions and its own Close.
type heldBackend struct {
	entered, hold chan struct{}
	mu            sync.Mutex
	events        []string
}

func (b *heldBackend) Name() string { return "held" }
func (b *heldBackend) Create(context.Context, Spec) (Container, error) {
	close(b.entered)
	<-b.hold
	b.log("created")
	return &heldContainer{b: b}, nil
}
func (b *heldBackend) Close(context.Context) error { b.log("closed"); return nil }
func (b *heldBackend) log(ev string) {
	b.mu.Lock()
	b.events = append(b.events, ev)
	b.mu.Unlock()
}

type heldContainer struct {
	fakeContainer
	b *heldBackend
}

func (c *heldContainer) Destroy(context.Context) error { c.b.log("destroyed"); return nil }

// TestPoolCloseWaitsForStemCreation: Close lets a stem cell creation under
// way finish and destroys its container before it closes the backend, so
// that no container outlives the pool unknown to it.
func TestPoolCloseWaitsForStemCreation(t *testing.T) {
	b := &heldBackend{entered: make(chan struct{}), hold: make(chan struct{})}
	p := NewPool(b, PoolConfig{
		UserMemoryMB: 1024, PauseGrace: time.Hour, IdleTimeout: time.Hour,
		StemCells: []StemCell{{Kind: "nodejs:20", MemoryMB: 256, Count: 1}},
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	<-b.entered
	closed := make(chan error, 1)
	go func() { closed <- p.Close(context.Background()) }()
	waitFor(t, "Close to start", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.closing
	})
	close(b.hold)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if want := []string{"created", "destroyed", "closed"}; !slices.Equal(b.events, want) {
		t.Fatalf("events %v, want %v", b.events, want)
	}
}
