package routing

import (
	"hash/fnv"
	"sync"

	"github.com/wispio/wisp/entity"
)

// Balancer chooses the invoker of an action: its home invoker by a hash of
// the action's name, so that repeated calls find warm containers.
type Balancer struct {
	mu       sync.RWMutex // guards invokers
	invokers []string
}

// NewBalancer returns a balancer over the given invoker ids.
func NewBalancer(invokers ...string) *Balancer {
	return &Balancer{invokers: append([]string(nil), invokers...)}
}

// SetInvokers replaces the set of healthy invokers.
func (b *Balancer) SetInvokers(ids []string) {
	b.mu.Lock()
	b.invokers = append([]string(nil), ids...)
	b.mu.Unlock()
}

// Choose returns the invoker for an action, or false when none is healthy.
func (b *Balancer) Choose(action entity.FQN) (string, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	switch len(b.invokers) {
	case 0:
		return "", false
	case 1:
		return b.invokers[0], true
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(action.Namespace))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(action.Path()))
	return b.invokers[int(h.Sum32()%uint32(len(b.invokers)))], true
}
