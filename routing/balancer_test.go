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

// TestBalancerOtherControllers: the activations an invoker reports
// running beyond this controller's own count against its memory, so that
// controllers sharing invokers do not all fill the same home invoker.
func TestBalancerOtherControllers(t *testing.T) {
	a := entity.FQN{Namespace: "ns", Name: "a"}
	tests := []struct {
		name        string
		own         int // this controller's activations at home before the ping
		running     int // what home's ping reports running
		wantHome    bool
		wantOwnRoom int // how many more of its own home takes after the ping
	}{
		{name: "alone", own: 0, running: 0, wantHome: true, wantOwnRoom: 8},
		{name: "another controller fills home", own: 0, running: 8, wantHome: false, wantOwnRoom: 0},
		{name: "half ours, half another's", own: 4, running: 8, wantHome: false, wantOwnRoom: 0},
		{name: "another's quarter", own: 2, running: 4, wantHome: true, wantOwnRoom: 4},
		{name: "ours only, some done since the ping", own: 4, running: 2, wantHome: true, wantOwnRoom: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Now()
			b := NewBalancer()
			for _, id := range []string{"i0", "i1", "i2"} {
				b.Observe(Health{Invoker: id, UserMemoryMB: 1024}, now)
			}
			home, _ := b.Choose(a, 128)
			b.Done(home, 128)
			for range tt.own {
				if got, _ := b.Choose(a, 128); got != home {
					t.Fatalf("own activation went to %s, want home %s", got, home)
				}
			}
			b.Observe(Health{Invoker: home, UserMemoryMB: 1024, Running: tt.running}, now.Add(time.Second))
			room := 0
			for {
				got, _ := b.Choose(a, 128)
				if got != home {
					break
				}
				room++
				if room > 8 {
					t.Fatalf("home %s took more than its memory", home)
				}
			}
			if (room > 0) != tt.wantHome || room != tt.wantOwnRoom {
				t.Errorf("home took %d more, want %d", room, tt.wantOwnRoom)
			}
		})
	}
}

// TestBalancerReclaimNotCounted: a reclaimed invocation (memory 0, no Done)
// leaves the counts alone, so the estimate of other controllers' load
// stays right.
func TestBalancerReclaimNotCounted(t *testing.T) {
	now := time.Now()
	b := NewBalancer()
	b.Observe(Health{Invoker: "i0", UserMemoryMB: 256}, now)
	b.Observe(Health{Invoker: "i1", UserMemoryMB: 256}, now)
	a := entity.FQN{Namespace: "ns", Name: "a"}
	home, _ := b.Choose(a, 128)
	b.Done(home, 128)
	for range 4 {
		b.Choose(a, 0)
	}
	// Another controller runs 2 there: home is full for this one.
	b.Observe(Health{Invoker: home, UserMemoryMB: 256, Running: 2}, now.Add(time.Second))
	if got, _ := b.Choose(a, 128); got == home {
		t.Fatalf("activation went to home %s, which another controller fills", home)
	}
}
