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

// dist is a histogram of milliseconds.
type dist struct {
	counts [len(distBoundsMs) + 1]int64
	sumMs  float64
}

func (d *dist) observe(ms float64) {
	i := 0
	for i < len(distBoundsMs) && ms > distBoundsMs[i] {
		i++
	}
	d.counts[i]++
	d.sumMs += ms
}

// minuteCounts is what a namespace did in one minute.
type minuteCounts struct {
	at int64 // the unix minute the slot holds; another means empty

	invocations, coldStarts int64
	status                  [len(statusLabel) + 1]int64 // statusLabel, then unknown
	duration, wait          dist
	fires                   int64
	rules                   [len(ruleOutcomes)]int64
	feedReceived            int64
	feedFired, feedFailed   int64
	feedLag                 dist
}

// nameMinute is what one action or trigger did in one minute: four
// counters whose meaning its ring's owner gives (actionCounts,
// triggerCounts) and a sum of milliseconds.
type nameMinute struct {
	at    int64
	n     [4]int64
	sumMs float64
}

// nameRing is one action's or trigger's last hour.
type nameRing struct {
	minutes [recentMinutes]nameMinute
	last    [2]int64 // epoch ms of the last two events its owner tracks
	info    string   // the trigger's feed provider
	lagMs   float64  // the trigger's last feed lag
	touched int64    // unix minute last written
}

func (r *nameRing) slot(minute int64) *nameMinute {
	s := &r.minutes[minute%recentMinutes]
	if s.at != minute {
		*s = nameMinute{at: minute}
	}
	r.touched = minute
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
	if s.at != minute {
		*s = minuteCounts{at: minute}
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
			if r.touched <= minute-recentMinutes {
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

	mu     sync.Mutex // guards spaces and everything in it
	spaces map[string]*nsRecent
}

func newRecent(now func() time.Time) *Recent {
	return &Recent{now: now, spaces: map[string]*nsRecent{}}
}

// space returns ns's ring and the current unix minute, with r.mu held; past
// recentNamespaces, the namespace written least recently gives its place.
func (r *Recent) space(ns string) (*nsRecent, int64) {
	now := r.now()
	minute := now.Unix() / 60
	n, ok := r.spaces[ns]
	if !ok {
		if len(r.spaces) >= recentNamespaces {
			oldest, at := "", now.UnixNano()+1
			for name, s := range r.spaces {
				if s.written < at {
					oldest, at = name, s.written
				}
			}
			delete(r.spaces, oldest)
		}
		n = &nsRecent{actions: map[string]*nameRing{}, triggers: map[string]*nameRing{}}
		r.spaces[ns] = n
	}
	n.written = now.UnixNano()
	return n, minute
}

// activation records an action's activation in namespace ns.
func (r *Recent) activation(ns, action string, status int, cold bool, durationMs, waitMs float64, hasWait bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, minute := r.space(ns)
	s := n.slot(minute)
	s.invocations++
	s.status[status]++
	s.duration.observe(durationMs)
	if hasWait {
		s.wait.observe(waitMs)
	}
	a := ring(n.actions, action, minute).slot(minute)
	a.n[actInvocations]++
	a.sumMs += durationMs
	if status != 0 {
		a.n[actErrors]++
	}
	if cold {
		s.coldStarts++
		a.n[actColdStarts]++
	}
}

// fire records a trigger's fire and its rules' outcomes (ruleOutcomes).
func (r *Recent) fire(ns, trigger string, outcomes [len(ruleOutcomes)]int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, minute := r.space(ns)
	s := n.slot(minute)
	s.fires++
	for i, k := range outcomes {
		s.rules[i] += k
	}
	t := ring(n.triggers, trigger, minute)
	t.slot(minute).n[trgFires]++
	t.last[lastFire] = r.now().UnixMilli()
}

// feedEvent records what happened to one feed event of ns's trigger: its
// counter (trgReceived, trgFired, trgFail), and for a fire its lag.
func (r *Recent) feedEvent(ns, trigger, provider string, what int, lag time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, minute := r.space(ns)
	s := n.slot(minute)
	t := ring(n.triggers, trigger, minute)
	t.info = provider
	ts := t.slot(minute)
	ts.n[what]++
	switch what {
	case trgReceived:
		s.feedReceived++
		t.last[lastEvent] = r.now().UnixMilli()
	case trgFired:
		ms := float64(lag) / float64(time.Millisecond)
		s.feedFired++
		s.feedLag.observe(ms)
		ts.sumMs += ms
		t.lagMs = ms
	case trgFail:
		s.feedFailed++
	}
}
