package invoker

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"
)

// Each Acquire says how it had its container, and Stats splits the
// containers by kind.
func TestPoolStartsAndKinds(t *testing.T) {
	b := newFakeBackend()
	p := NewPool(b, PoolConfig{
		UserMemoryMB: 4096, PauseGrace: time.Millisecond, IdleTimeout: time.Hour,
		StemCells: []StemCell{{Kind: "nodejs:20", MemoryMB: 256, Count: 1}},
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(func() { p.Close(context.Background()) })
	waitFor(t, "the stem cell", func() bool { return p.Stats().StemCells == 1 })
	if k := p.Stats().Kinds["nodejs:20"]; k != (KindStats{StemCells: 1}) {
		t.Fatalf("nodejs:20 before any acquire = %+v, want one stem cell", k)
	}
	acquireAs := func(key, kind string, conc int, want string) *Slot {
		t.Helper()
		s, _, err := p.Acquire(context.Background(), key, Spec{Kind: kind, MemoryMB: 256, Action: key}, conc)
		if err != nil {
			t.Fatal(err)
		}
		if s.Start() != want {
			t.Fatalf("acquire %s: start %q, want %q", key, s.Start(), want)
		}
		p.Initialized(s)
		return s
	}
	a1 := acquireAs("a", "nodejs:20", 2, StartStem)
	py := acquireAs("b", "python:3", 1, StartCold)
	a2 := acquireAs("a", "nodejs:20", 2, StartWarm) // shares a1's container
	waitFor(t, "the stem cell refilled", func() bool { return p.Stats().StemCells == 1 })
	st := p.Stats()
	if k := st.Kinds["nodejs:20"]; k != (KindStats{Containers: 1, Busy: 1, StemCells: 1}) {
		t.Errorf("nodejs:20 = %+v, want one busy container and one stem cell", k)
	}
	if k := st.Kinds["python:3"]; k != (KindStats{Containers: 1, Busy: 1}) {
		t.Errorf("python:3 = %+v, want one busy container", k)
	}
	p.Release(a1, true)
	p.Release(a2, true)
	<-b.paused // a's container, idle for the pause grace
	waitFor(t, "nodejs:20 paused", func() bool { k := p.Stats().Kinds["nodejs:20"]; return k.Paused == 1 && k.Busy == 0 })
	a3 := acquireAs("a", "nodejs:20", 2, StartResume)
	p.Release(a3, true)
	p.Release(py, true)
}
