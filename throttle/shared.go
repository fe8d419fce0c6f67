package throttle

import (
	"sync"
	"time"
)

// Report is what one node of a cluster tells the others of its counts:
// per namespace, the invocations and fires of the current minute and the
// activations in flight. Each node sends one every report interval
// (Throttle.Report); the others add the newest one of every node to their
// own counts (Throttle.Merge), so that a limit holds for the cluster and
// not per controller.
//
// Overshoot: a node does not see what the others accepted since their
// last report, so the cluster may accept, beyond a limit, at most what the
// other nodes accept in one report interval plus the report's transit
// (with reports every 50 ms, as the server sends them, a request or two at moderate rates). A node
// whose reports stop counts for PeerSilence, then not at all (its
// in-flight activations are gone with it or will be answered elsewhere).
type Report struct {
	Node string `json:"node"`
	// Minute is the window of the per-minute counts (minutes since the
	// epoch): a report of another minute adds nothing to them.
	Minute     int64                  `json:"minute"`
	Namespaces map[string]ReportCount `json:"namespaces"`
}

// ReportCount is one namespace's counts in a Report.
type ReportCount struct {
	Invocations int `json:"invocations,omitempty"`
	Fires       int `json:"fires,omitempty"`
	InFlight    int `json:"inFlight,omitempty"`
}

// PeerSilence is how long a node's last report counts.
const PeerSilence = 5 * time.Second

// peers holds the newest report of every other node.
type peers struct {
	mu      sync.Mutex // guards reports
	reports map[string]peerReport
}

type peerReport struct {
	Report
	received time.Time
}

// sum adds up the other nodes' counts of ns that hold at now.
func (p *peers) sum(ns string, now time.Time) (invocations, fires, inFlight int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	minute := now.Unix() / 60
	for node, r := range p.reports {
		if now.Sub(r.received) > PeerSilence {
			delete(p.reports, node)
			continue
		}
		c := r.Namespaces[ns]
		inFlight += c.InFlight
		if r.Minute == minute {
			invocations += c.Invocations
			fires += c.Fires
		}
	}
	return invocations, fires, inFlight
}

// Share makes t count the other nodes' reports (Merge) and report its own
// as node (Report); call it before the first check.
func (t *Throttle) Share(node string) {
	t.node = node
	t.peers = &peers{reports: map[string]peerReport{}}
}

// Merge takes another node's report; this node's own is ignored.
func (t *Throttle) Merge(r Report) {
	if t.peers == nil || r.Node == t.node {
		return
	}
	t.peers.mu.Lock()
	t.peers.reports[r.Node] = peerReport{Report: r, received: t.cfg.Now()}
	t.peers.mu.Unlock()
}

// Report returns this node's counts of the current minute and its
// activations in flight, for every namespace with any.
func (t *Throttle) Report() Report {
	now := t.cfg.Now()
	r := Report{Node: t.node, Minute: now.Unix() / 60, Namespaces: map[string]ReportCount{}}
	t.namespaces.Range(func(k, v any) bool {
		c := v.(*counters)
		rc := ReportCount{InFlight: int(c.inFlight.Load())}
		c.mu.Lock()
		if c.minute == r.Minute {
			rc.Invocations, rc.Fires = c.invocations, c.fires
		}
		c.mu.Unlock()
		if rc != (ReportCount{}) {
			r.Namespaces[k.(string)] = rc
		}
		return true
	})
	return r
}

// others is what the other nodes count for ns now (zero when not shared).
func (t *Throttle) others(ns string, now time.Time) (invocations, fires, inFlight int) {
	if t.peers == nil {
		return 0, 0, 0
	}
	return t.peers.sum(ns, now)
}
