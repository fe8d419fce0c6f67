package feeds

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"time"
)

// PreferredNode returns the node of live that should run the
// registration key: the one with the highest rendezvous (highest random
// weight) score of key and node. Every node that sees the same live
// nodes picks the same one, the registrations spread evenly over them,
// and a node joining or leaving moves only the registrations it gains or
// had. "" when live is empty.
func PreferredNode(key string, live []string) string {
	best, bestScore := "", uint64(0)
	for _, node := range live {
		h := sha256.New()
		h.Write([]byte(key))
		h.Write([]byte{0})
		h.Write([]byte(node))
		score := binary.BigEndian.Uint64(h.Sum(nil))
		if best == "" || score > bestScore || (score == bestScore && node < best) {
			best, bestScore = node, score
		}
	}
	return best
}

// claims reports whether node me takes the free registration key now:
// when it is key's preferred node among live, or when key has stayed free
// for grace (its preferred node is not taking it: nothing stays unowned).
func claims(key, me string, live []string, freeFor, grace time.Duration) bool {
	return PreferredNode(key, live) == me || freeFor >= grace
}

// yields reports whether node me hands key, which it runs, to key's
// preferred node: when another live node is preferred and me did not take
// key because that node left it free (then it would only hand it back).
func yields(key, me string, live []string, takenByGrace bool) bool {
	return !takenByGrace && PreferredNode(key, live) != me
}

// spread is the state of the spreading of registrations over the feeds
// nodes, touched only by scan (Start's, then runOwnership's: one at a
// time).
type spread struct {
	// freeSince is when each free registration left to another node was
	// first seen free.
	freeSince map[string]time.Time
	// byGrace are the registrations this node took after their grace.
	byGrace map[string]bool
}

// liveNodes returns the live feeds nodes, this one included (alone when
// they cannot be read: it then takes what is free, as a single node
// would).
func (m *Manager) liveNodes(ctx context.Context, c *Cluster) []string {
	me := c.Leases.Node()
	live, err := c.Leases.Live(ctx)
	if err != nil {
		if ctx.Err() == nil {
			m.log.Warn("read the live feeds nodes", "err", err)
		}
		return []string{me}
	}
	if !slices.Contains(live, me) {
		live = append(live, me)
	}
	return live
}

// grace is how long a free registration is left to its preferred node
// before another takes it: the cluster's Grace, or three scans.
func (c *Cluster) grace() time.Duration {
	if c.Grace > 0 {
		return c.Grace
	}
	return 3 * c.Scan
}
