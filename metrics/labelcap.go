package metrics

import "sync"

// maxEntitySeries bounds the distinct entities (namespace, initiator and
// action; namespace and trigger) the per-entity metrics label: the names
// are the tenants' choice, and a series once created lives as long as the
// process. Past it, further entities count under otherLabel.
const maxEntitySeries = 10_000

// otherLabel stands for the entities past maxEntitySeries; no entity is
// named so (names cannot hold parentheses).
const otherLabel = "(other)"

// entityKey names an entity's series: namespace, initiator (or "") and
// name. A struct, so that admitting an activation allocates nothing.
type entityKey struct{ ns, initiator, name string }

// labelCap admits the first max distinct keys and refuses any other.
type labelCap struct {
	mu   sync.Mutex // guards seen
	seen map[entityKey]struct{}
	max  int
}

func newLabelCap(max int) *labelCap {
	return &labelCap{seen: make(map[entityKey]struct{}), max: max}
}

// admit reports whether key has, or may now have, series of its own.
func (c *labelCap) admit(key entityKey) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.seen[key]; ok {
		return true
	}
	if len(c.seen) >= c.max {
		return false
	}
	c.seen[key] = struct{}{}
	return true
}
