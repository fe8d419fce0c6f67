package metrics

import (
	"encoding/json"
	"fmt"
	"time"
)

// ScopeCluster is NamespaceView.Scope when the processes of a cluster send
// each other what they record (Metrics.ShareRecent).
const ScopeCluster = "cluster"

// sharedSpace is one namespace's part of a share: the minutes and the
// actions' and triggers' minutes recorded since the last one.
type sharedSpace struct {
	Minutes  []minuteCounts        `json:"minutes,omitempty"`
	Actions  map[string]sharedRing `json:"actions,omitempty"`
	Triggers map[string]sharedRing `json:"triggers,omitempty"`
}

// sharedRing is an action's or trigger's part of a share.
type sharedRing struct {
	Minutes []nameMinute `json:"minutes"`
	Last    [2]int64     `json:"last"`
	Info    string       `json:"info,omitempty"`
	LagMs   float64      `json:"lagMs,omitempty"`
}

// ShareRecent makes this process keep what it records for the namespace
// view apart as well, for TakeRecent to send to the other processes of a
// cluster; its views then say ScopeCluster.
func (m *Metrics) ShareRecent() {
	if m == nil {
		return
	}
	m.recent.mu.Lock()
	defer m.recent.mu.Unlock()
	if m.recent.out == nil {
		m.recent.out = map[string]*nsRecent{}
	}
}

// TakeRecent returns what this process recorded for the namespace view
// since the last call, as JSON for MergeRecent in the other processes; nil
// when nothing was (or ShareRecent was not called).
func (m *Metrics) TakeRecent() []byte {
	if m == nil {
		return nil
	}
	r := m.recent
	r.mu.Lock()
	out := r.out
	if len(out) == 0 {
		r.mu.Unlock()
		return nil
	}
	r.out = map[string]*nsRecent{}
	r.mu.Unlock()
	share := make(map[string]sharedSpace, len(out))
	for ns, n := range out {
		var s sharedSpace
		for _, c := range n.minutes {
			if c.At != 0 {
				s.Minutes = append(s.Minutes, c)
			}
		}
		s.Actions, s.Triggers = sharedRings(n.actions), sharedRings(n.triggers)
		share[ns] = s
	}
	b, err := json.Marshal(share)
	if err != nil {
		return nil // plain data: cannot fail
	}
	return b
}

func sharedRings(rings map[string]*nameRing) map[string]sharedRing {
	if len(rings) == 0 {
		return nil
	}
	out := make(map[string]sharedRing, len(rings))
	for name, r := range rings {
		s := sharedRing{Last: r.Last, Info: r.Info, LagMs: r.LagMs}
		for _, m := range r.Minutes {
			if m.At != 0 {
				s.Minutes = append(s.Minutes, m)
			}
		}
		out[name] = s
	}
	return out
}

// MergeRecent adds what another process took with TakeRecent to this
// process's namespace view (not to what this one shares: nothing travels
// twice). Minutes older than the view's hour are dropped.
func (m *Metrics) MergeRecent(data []byte) error {
	if m == nil {
		return nil
	}
	var share map[string]sharedSpace
	if err := json.Unmarshal(data, &share); err != nil {
		return fmt.Errorf("metrics: decode a share: %w", err)
	}
	r := m.recent
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	oldest := now.Unix()/60 - recentMinutes
	for ns, s := range share {
		n := space(r.spaces, ns, now)
		for _, c := range s.Minutes {
			if c.At > oldest {
				n.slot(c.At).add(&c)
			}
		}
		mergeRings(n.actions, s.Actions, oldest, now)
		mergeRings(n.triggers, s.Triggers, oldest, now)
	}
	return nil
}

func mergeRings(rings map[string]*nameRing, shared map[string]sharedRing, oldest int64, now time.Time) {
	for name, s := range shared {
		r := ring(rings, name, now.Unix()/60)
		for _, m := range s.Minutes {
			if m.At <= oldest {
				continue
			}
			slot := r.slot(m.At)
			for i, k := range m.N {
				slot.N[i] += k
			}
			slot.SumMs += m.SumMs
		}
		if s.Last[lastEvent] >= r.Last[lastEvent] && s.Last[lastEvent] != 0 {
			r.LagMs = s.LagMs
		}
		for i, t := range s.Last {
			r.Last[i] = max(r.Last[i], t)
		}
		if s.Info != "" {
			r.Info = s.Info
		}
	}
}

// add adds o's counts to c (the same minute).
func (c *minuteCounts) add(o *minuteCounts) {
	c.Invocations += o.Invocations
	c.ColdStarts += o.ColdStarts
	for i, k := range o.Status {
		c.Status[i] += k
	}
	c.Duration.add(&o.Duration)
	c.Wait.add(&o.Wait)
	c.Fires += o.Fires
	for i, k := range o.Rules {
		c.Rules[i] += k
	}
	c.FeedReceived += o.FeedReceived
	c.FeedFired += o.FeedFired
	c.FeedFailed += o.FeedFailed
	c.FeedLag.add(&o.FeedLag)
}

func (d *dist) add(o *dist) {
	for i, k := range o.Counts {
		d.Counts[i] += k
	}
	d.SumMs += o.SumMs
}
