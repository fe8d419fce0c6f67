package routing

import (
	"slices"
	"testing"
	"time"

	"github.com/wispio/wisp/entity"
)

func TestBalancerHealth(t *testing.T) {
	now := time.Unix(1000, 0)
	b := NewBalancer()
	if _, ok := b.Choose(entity.FQN{Namespace: "ns", Name: "a"}, 256); ok {
		t.Fatal("chose an invoker before any ping")
	}
	b.Observe(Health{Invoker: "i2", UserMemoryMB: 1024}, now)
	b.Observe(Health{Invoker: "i1", UserMemoryMB: 1024}, now)
	b.Observe(Health{Invoker: "i3", UserMemoryMB: 1024}, now.Add(2*time.Second))
	if got := b.Invokers(); !slices.Equal(got, []string{"i1", "i2", "i3"}) {
		t.Fatalf("invokers = %v", got)
	}
	// A leaving invoker takes no more work but is reclaimed only once silent.
	b.Observe(Health{Invoker: "i2", UserMemoryMB: 1024, Leaving: true}, now.Add(time.Second))
	if got := b.Invokers(); !slices.Equal(got, []string{"i1", "i3"}) {
		t.Fatalf("after i2 leaves: %v", got)
	}
	tests := []struct {
		at   time.Duration
		gone []string
		left []string
	}{
		{at: 3 * time.Second, gone: nil, left: []string{"i1", "i3"}},
		{at: 4500 * time.Millisecond, gone: []string{"i1"}, left: []string{"i3"}},
		{at: 5500 * time.Millisecond, gone: []string{"i2"}, left: []string{"i3"}},
		{at: 7 * time.Second, gone: []string{"i3"}, left: []string{}},
	}
	for _, tt := range tests {
		gone := b.Expire(now.Add(tt.at), 4*time.Second)
		if !slices.Equal(gone, tt.gone) || !slices.Equal(b.Invokers(), tt.left) {
			t.Fatalf("at +%s: gone %v left %v, want %v %v", tt.at, gone, b.Invokers(), tt.gone, tt.left)
		}
	}
}

// The home invoker takes an action's activations until this controller's
// activations in flight there fill its memory; then the next one does,
// and Done gives the memory back.
func TestBalancerOverflow(t *testing.T) {
	now := time.Now()
	b := NewBalancer()
	for _, id := range []string{"i0", "i1", "i2"} {
		b.Observe(Health{Invoker: id, UserMemoryMB: 512}, now)
	}
	a := entity.FQN{Namespace: "ns", Name: "a"}
	home, _ := b.Choose(a, 256)
	if second, _ := b.Choose(a, 256); second != home {
		t.Fatalf("second activation went to %s, want home %s", second, home)
	}
	over, _ := b.Choose(a, 256)
	if over == home {
		t.Fatalf("third activation stayed on the full home invoker %s", home)
	}
	b.Done(home, 256)
	if again, _ := b.Choose(a, 256); again != home {
		t.Fatalf("after Done the activation went to %s, want home %s", again, home)
	}
	// All full: the least loaded takes it rather than none.
	for range 6 {
		if _, ok := b.Choose(a, 256); !ok {
			t.Fatal("no invoker chosen when all are full")
		}
	}
}
