package metrics

import (
	"sync"
	"time"
)

// Bounds of the recent view (Recent): an hour of minutes, for at most
// recentNamespaces namespaces and recentNames actions and recentNames
// triggers in each.
const (
	recentMinutes    = 60
	recentNamespaces = 1000
	recentNames      = 100
	// OtherName counts the actions or triggers of a namespace past the
	// first recentNames seen in the hour.
	OtherName = "(other)"
)

// distBoundsMs are the upper bounds (milliseconds) of the recent view's
// duration, wait time and feed lag histograms; a last bucket holds the
// rest.
var distBoundsMs = [...]float64{1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000}

// dist is a histogram of milliseconds. The exported fields of these
// types are what a cluster's processes send each other (share.go).
type dist struct {
	Counts [len(distBoundsMs) + 1]int64 `json:"c"`
	SumMs  float64                      `json:"s"`
}

func (d *dist) observe(ms float64) {
	i := 0
	for i < len(distBoundsMs) && ms > distBoundsMs[i] {
		i++
	}
	d.Counts[i]++
	d.SumMs += ms
}

// minuteCounts is what a namespace did in one minute.
type minuteCounts struct {
	At int64 `json:"at"` // the unix minute the slot holds; another means empty

	Invocations  int64                       `json:"inv,omitempty"`
	ColdStarts   int64                       `json:"cold,omitempty"`
	Status       [len(statusLabel) + 1]int64 `json:"st"` // statusLabel, then unknown
	Duration     dist                        `json:"dur"`
	Wait         dist                        `json:"wait"`
	Fires        int64                       `json:"fires,omitempty"`
	Rules        [len(ruleOutcomes)]int64    `json:"rules"`
	FeedReceived int64                       `json:"recv,omitempty"`
	FeedFired    int64                       `json:"fired,omitempty"`
	FeedFailed   int64                       `json:"failed,omitempty"`
	FeedLag      dist                        `json:"lag"`
}

// nameMinute is what one action or trigger did in one minute: four
// counters whose meaning its ring's owner gives (actionCounts,
// triggerCounts) and a sum of milliseconds.
type nameMinute struct {
	At    int64    `json:"at"`
	N     [4]int64 `json:"n"`
	SumMs float64  `json:"s"`
}

// nameRing is one action's or trigger's last hour.
type nameRing struct {
	Minutes [recentMinutes]nameMinute
	Last    [2]int64 // epoch ms of the last two events its owner tracks
	Info    string   // the trigger's feed provider
	LagMs   float64  // the trigger's last feed lag
	Touched int64    // unix minute last written
}

func (r *nameRing) slot(minute int64) *nameMinute {
	s := &r.Minutes[minute%recentMinutes]
	if s.At != minute {
		*s = nameMinute{At: minute}
	}
	r.Touched = minute
	return s
}

// The counters of nameMinute for an action and for a trigger.
const (
	actInvocations, actErrors, actColdStarts = 0, 1, 2
	trgFires, trgReceived, trgFired, trgFail = 0, 1, 2, 3
	lastFire, lastEvent                      = 0, 1
)

// nsRecent is one namespace's last hour.
type nsRecent struct {
	minutes  [recentMinutes]minuteCounts
	actions  map[string]*nameRing
	triggers map[string]*nameRing
	written  int64 // unix ns of the last write
}

func (n *nsRecent) slot(minute int64) *minuteCounts {
	s := &n.minutes[minute%recentMinutes]
	if s.At != minute {
		*s = minuteCounts{At: minute}
	}
	return s
}

// ring is the ring of name in rings, made when missing; past recentNames
// names, a name unseen for an hour gives its place, else the name counts
// under OtherName.
func ring(rings map[string]*nameRing, name string, minute int64) *nameRing {
	if r, ok := rings[name]; ok {
		return r
	}
	if len(rings) >= recentNames {
		for old, r := range rings {
			if r.Touched <= minute-recentMinutes {
				delete(rings, old)
			}
		}
	}
	if len(rings) >= recentNames {
		name = OtherName
		if r, ok := rings[name]; ok {
			return r
		}
	}
	r := &nameRing{}
	rings[name] = r
	return r
}

// Recent keeps what each namespace did in the last hour, minute by minute,
// in a bounded ring: the per-namespace view of GET
// /api/v1/namespaces/{ns}/metrics, fed by the same calls as the Prometheus
// metrics. It holds no activation id. Its methods are safe for concurrent
// use.
type Recent struct {
	now func() time.Time

	mu     sync.Mutex // guards spaces, out and everything in them
	spaces map[string]*nsRecent
	// out holds what was recorded since the last take, for the other
	// processes of a cluster; nil when this process does not share.
	out map[string]*nsRecent
}

func newRecent(now func() time.Time) *Recent {
	return &Recent{now: now, spaces: map[string]*nsRecent{}}
}

// space returns ns's ring in spaces; past recentNamespaces, the namespace
// written least recently gives its place.
func space(spaces map[string]*nsRecent, ns string, now time.Time) *nsRecent {
	n, ok := spaces[ns]
	if !ok {
		if len(spaces) >= recentNamespaces {
			oldest, at := "", now.UnixNano()+1
			for name, s := range spaces {
				if s.written < at {
					oldest, at = name, s.written
				}
			}
			delete(spaces, oldest)
		}
		n = &nsRecent{actions: map[string]*nameRing{}, triggers: map[string]*nameRing{}}
		spaces[ns] = n
	}
	n.written = now.UnixNano()
	return n
}

// record runs write on ns's ring and, when sharing, on its part of out,
// with r.mu held; minute is the current unix minute, nowMs the time.
func (r *Recent) record(ns string, write func(n *nsRecent, minute, nowMs int64)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	minute, nowMs := now.Unix()/60, now.UnixMilli()
	write(space(r.spaces, ns, now), minute, nowMs)
	if r.out != nil {
		write(space(r.out, ns, now), minute, nowMs)
	}
}

// activation records an action's activation in namespace ns.
func (r *Recent) activation(ns, action string, status int, cold bool, durationMs, waitMs float64, hasWait bool) {
	r.record(ns, func(n *nsRecent, minute, _ int64) {
		n.activation(minute, action, status, cold, durationMs, waitMs, hasWait)
	})
}

func (n *nsRecent) activation(minute int64, action string, status int, cold bool, durationMs, waitMs float64, hasWait bool) {
	s := n.slot(minute)
	s.Invocations++
	s.Status[status]++
	s.Duration.observe(durationMs)
	if hasWait {
		s.Wait.observe(waitMs)
	}
	a := ring(n.actions, action, minute).slot(minute)
	a.N[actInvocations]++
	a.SumMs += durationMs
	if status != 0 {
		a.N[actErrors]++
	}
	if cold {
		s.ColdStarts++
		a.N[actColdStarts]++
	}
}

// fire records a trigger's fire and its rules' outcomes (ruleOutcomes).
func (r *Recent) fire(ns, trigger string, outcomes [len(ruleOutcomes)]int64) {
	r.record(ns, func(n *nsRecent, minute, nowMs int64) {
		s := n.slot(minute)
		s.Fires++
		for i, k := range outcomes {
			s.Rules[i] += k
		}
		t := ring(n.triggers, trigger, minute)
		t.slot(minute).N[trgFires]++
		t.Last[lastFire] = nowMs
	})
}

// feedEvent records what happened to one feed event of ns's trigger: its
// counter (trgReceived, trgFired, trgFail), and for a fire its lag.
func (r *Recent) feedEvent(ns, trigger, provider string, what int, lag time.Duration) {
	r.record(ns, func(n *nsRecent, minute, nowMs int64) { n.feedEvent(minute, nowMs, trigger, provider, what, lag) })
}

func (n *nsRecent) feedEvent(minute, nowMs int64, trigger, provider string, what int, lag time.Duration) {
	s := n.slot(minute)
	t := ring(n.triggers, trigger, minute)
	t.Info = provider
	ts := t.slot(minute)
	ts.N[what]++
	switch what {
	case trgReceived:
		s.FeedReceived++
		t.Last[lastEvent] = nowMs
	case trgFired:
		ms := float64(lag) / float64(time.Millisecond)
		s.FeedFired++
		s.FeedLag.observe(ms)
		ts.SumMs += ms
		t.LagMs = ms
	case trgFail:
		s.FeedFailed++
	}
}
