package routing

import (
	"hash/fnv"
	"slices"
	"sync"
	"time"

	"github.com/wispio/wisp/entity"
)

// Balancer chooses the invoker of an action: its home invoker by a hash of
// the action's name, so that repeated calls find warm containers, unless
// the activations in flight there already fill the home invoker's memory;
// then the next invoker (in id order) with room, and when none has room,
// the least loaded one.
//
// The activations in flight are this controller's, counted exactly, and
// other controllers', estimated from the invoker's last health ping: the
// activations it ran then beyond this controller's own (each counted at the
// memory of the activation being placed). Without that estimate every
// controller of a cluster filled the same home invoker with its own
// activations while the other invokers idled.
//
// A balancer made with invoker ids keeps them for good (one process); one
// made empty learns its invokers from their health pings (Observe) and
// drops those that fall silent (Expire).
type Balancer struct {
	mu       sync.Mutex // guards everything below
	invokers []string   // healthy, in id order
	state    map[string]*invokerState
}

type invokerState struct {
	memoryMB   int // the invoker's container memory; 0 = unknown
	inflightMB int // this controller's activations there, their memory
	inflight   int // and their number
	// others estimates the activations other controllers have there: those
	// the invoker ran at its last ping beyond this controller's own then.
	others   int
	lastSeen time.Time
	leaving  bool
	static   bool
}

// NewBalancer returns a balancer over the given invoker ids, which stay
// healthy.
func NewBalancer(invokers ...string) *Balancer {
	b := &Balancer{state: map[string]*invokerState{}}
	for _, id := range invokers {
		b.state[id] = &invokerState{static: true}
	}
	b.refreshLocked()
	return b
}

// refreshLocked rebuilds the list of healthy invokers.
func (b *Balancer) refreshLocked() {
	b.invokers = b.invokers[:0]
	for id, s := range b.state {
		if !s.leaving {
			b.invokers = append(b.invokers, id)
		}
	}
	slices.Sort(b.invokers)
}

// Observe records a health ping and reports whether it changed the set of
// healthy invokers (a new invoker, or one leaving).
func (b *Balancer) Observe(h Health, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.state[h.Invoker]
	if !ok {
		s = &invokerState{}
		b.state[h.Invoker] = s
	}
	s.memoryMB, s.lastSeen = h.UserMemoryMB, now
	s.others = max(0, h.Running-s.inflight)
	if ok && s.leaving == h.Leaving {
		return false
	}
	s.leaving = h.Leaving
	b.refreshLocked()
	return true
}

// Expire removes the invokers not seen since silence before now and
// returns their ids.
func (b *Balancer) Expire(now time.Time, silence time.Duration) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var gone []string
	for id, s := range b.state {
		if !s.static && now.Sub(s.lastSeen) > silence {
			gone = append(gone, id)
			delete(b.state, id)
		}
	}
	if len(gone) > 0 {
		b.refreshLocked()
	}
	slices.Sort(gone)
	return gone
}

// Invokers returns the healthy invokers' ids.
func (b *Balancer) Invokers() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.invokers)
}

// Choose picks the invoker of an activation of action needing memoryMB
// and counts the memory in flight there until Done; false when no invoker
// is healthy.
func (b *Balancer) Choose(action entity.FQN, memoryMB int) (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(b.invokers)
	if n == 0 {
		return "", false
	}
	home := 0
	if n > 1 {
		h := fnv.New32a()
		_, _ = h.Write([]byte(action.Namespace))
		_, _ = h.Write([]byte{0})
		_, _ = h.Write([]byte(action.Path()))
		home = int(h.Sum32() % uint32(n))
	}
	best, bestLoad := -1, 0.0
	for i := range n {
		k := (home + i) % n
		s := b.state[b.invokers[k]]
		busy := s.inflightMB + s.others*memoryMB
		if s.memoryMB == 0 || busy+memoryMB <= s.memoryMB {
			best = k
			break
		}
		if load := float64(busy) / float64(s.memoryMB); best < 0 || load < bestLoad {
			best, bestLoad = k, load
		}
	}
	id := b.invokers[best]
	if memoryMB > 0 { // a reclaimed invocation (memoryMB 0) has no Done
		b.state[id].inflightMB += memoryMB
		b.state[id].inflight++
	}
	return id, true
}

// Done releases memory counted by Choose for invoker.
func (b *Balancer) Done(invoker string, memoryMB int) {
	b.mu.Lock()
	if s, ok := b.state[invoker]; ok && memoryMB > 0 {
		s.inflightMB = max(0, s.inflightMB-memoryMB)
		s.inflight = max(0, s.inflight-1)
	}
	b.mu.Unlock()
}
