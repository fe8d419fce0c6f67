package metrics

import (
	"slices"
	"strings"
	"time"
)

// ScopeProcess is NamespaceView.Scope: the view counts what this process
// observed (see README, "Per-namespace metrics").
const ScopeProcess = "process"

// NamespaceView is one namespace's recent activity as GET
// /api/v1/namespaces/{ns}/metrics answers it: a bucket per minute from
// Since (rounded down to its minute) to now, and the actions and triggers
// seen in that window.
type NamespaceView struct {
	Namespace string `json:"namespace"`
	// Since and Until bound the window (epoch ms); Minute is a bucket's
	// width (ms).
	Since  int64 `json:"since"`
	Until  int64 `json:"until"`
	Minute int64 `json:"minute"`
	// Scope says whose observations these are: "process" (this process's
	// alone) or "cluster" (those the cluster's processes send each other
	// too).
	Scope    string        `json:"scope"`
	Minutes  []MinuteView  `json:"minutes"`
	Actions  []ActionView  `json:"actions"`
	Triggers []TriggerView `json:"triggers"`
}

// MinuteView is one minute of a namespace.
type MinuteView struct {
	Start int64 `json:"start"` // epoch ms
	// Invocations counts the action activations recorded; Errors those
	// that did not succeed, Status all of them by OpenWhisk's status label.
	Invocations int64            `json:"invocations"`
	Errors      int64            `json:"errors"`
	Status      map[string]int64 `json:"status"`
	ColdStarts  int64            `json:"coldStarts"`
	Duration    Distribution     `json:"duration"`
	WaitTime    Distribution     `json:"waitTime"`
	// TriggerFires counts the trigger activations recorded, Rules their
	// rules' outcomes (activated, inactive, failed).
	TriggerFires int64            `json:"triggerFires"`
	Rules        map[string]int64 `json:"rules"`
	// Feed events received, fired and failed (never to fire), and the lag
	// of the fired ones from receipt to fire.
	FeedEvents FeedCounts   `json:"feedEvents"`
	FeedLag    Distribution `json:"feedLag"`
}

// FeedCounts counts feed events.
type FeedCounts struct {
	Received int64 `json:"received"`
	Fired    int64 `json:"fired"`
	Failed   int64 `json:"failed"`
}

// Distribution summarises milliseconds: their count, mean and estimated
// percentiles (interpolated in the histogram buckets of distBoundsMs).
type Distribution struct {
	Count  int64   `json:"count"`
	MeanMs float64 `json:"meanMs"`
	P50Ms  float64 `json:"p50Ms"`
	P90Ms  float64 `json:"p90Ms"`
	P99Ms  float64 `json:"p99Ms"`
}

// ActionView is an action's window: invocations, errors, cold starts and
// mean duration.
type ActionView struct {
	Name        string  `json:"name"`
	Invocations int64   `json:"invocations"`
	Errors      int64   `json:"errors"`
	ColdStarts  int64   `json:"coldStarts"`
	MeanMs      float64 `json:"meanMs"`
}

// TriggerView is a trigger's window: its fires and, for a trigger with a
// feed, its feed's health.
type TriggerView struct {
	Name     string `json:"name"`
	Provider string `json:"provider,omitempty"`
	Fires    int64  `json:"fires"`
	// LastFire and LastEvent are epoch ms (0: none seen by this process).
	LastFire   int64      `json:"lastFire,omitempty"`
	LastEvent  int64      `json:"lastEvent,omitempty"`
	FeedEvents FeedCounts `json:"feedEvents"`
	// LastLagMs is the lag of the last fired feed event, MeanLagMs the mean
	// over the window.
	LastLagMs float64 `json:"lastLagMs"`
	MeanLagMs float64 `json:"meanLagMs"`
}

// View is namespace ns's activity since since (at most the last hour).
func (r *Recent) View(ns string, since time.Time) NamespaceView {
	now := r.now()
	nowMin := now.Unix() / 60
	first := since.Unix() / 60
	if first <= nowMin-recentMinutes {
		first = nowMin - recentMinutes + 1
	}
	if first > nowMin {
		first = nowMin
	}
	v := NamespaceView{Namespace: ns, Since: first * 60000, Until: now.UnixMilli(), Minute: 60000, Scope: ScopeProcess,
		Minutes: make([]MinuteView, 0, nowMin-first+1), Actions: []ActionView{}, Triggers: []TriggerView{}}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.out != nil {
		v.Scope = ScopeCluster
	}
	n := r.spaces[ns]
	for m := first; m <= nowMin; m++ {
		var c minuteCounts
		if n != nil && n.minutes[m%recentMinutes].At == m {
			c = n.minutes[m%recentMinutes]
		}
		v.Minutes = append(v.Minutes, c.view(m))
	}
	if n == nil {
		return v
	}
	for name, ring := range n.actions {
		sum, ms := ring.window(first, nowMin)
		if sum[actInvocations] == 0 {
			continue
		}
		v.Actions = append(v.Actions, ActionView{Name: name, Invocations: sum[actInvocations], Errors: sum[actErrors],
			ColdStarts: sum[actColdStarts], MeanMs: ms / float64(sum[actInvocations])})
	}
	for name, ring := range n.triggers {
		sum, ms := ring.window(first, nowMin)
		t := TriggerView{Name: name, Provider: ring.Info, Fires: sum[trgFires], LastFire: ring.Last[lastFire], LastEvent: ring.Last[lastEvent],
			FeedEvents: FeedCounts{Received: sum[trgReceived], Fired: sum[trgFired], Failed: sum[trgFail]}, LastLagMs: ring.LagMs}
		if t.FeedEvents.Fired > 0 {
			t.MeanLagMs = ms / float64(t.FeedEvents.Fired)
		}
		v.Triggers = append(v.Triggers, t)
	}
	slices.SortFunc(v.Actions, func(a, b ActionView) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(v.Triggers, func(a, b TriggerView) int { return strings.Compare(a.Name, b.Name) })
	return v
}

// window sums the ring's minutes from first to last.
func (r *nameRing) window(first, last int64) (sum [4]int64, ms float64) {
	for _, s := range r.Minutes {
		if s.At < first || s.At > last {
			continue
		}
		for i, k := range s.N {
			sum[i] += k
		}
		ms += s.SumMs
	}
	return sum, ms
}

func (c *minuteCounts) view(minute int64) MinuteView {
	v := MinuteView{Start: minute * 60000, Invocations: c.Invocations, ColdStarts: c.ColdStarts,
		Status: map[string]int64{}, Rules: map[string]int64{},
		Duration: c.Duration.view(), WaitTime: c.Wait.view(), TriggerFires: c.Fires,
		FeedEvents: FeedCounts{Received: c.FeedReceived, Fired: c.FeedFired, Failed: c.FeedFailed}, FeedLag: c.FeedLag.view()}
	for i, k := range c.Status {
		label := "unknown"
		if i < len(statusLabel) {
			label = statusLabel[i]
		}
		v.Status[label] = k
		if i > 0 {
			v.Errors += k
		}
	}
	for i, k := range c.Rules {
		v.Rules[ruleOutcomes[i]] = k
	}
	return v
}

func (d *dist) view() Distribution {
	var n int64
	for _, k := range d.Counts {
		n += k
	}
	if n == 0 {
		return Distribution{}
	}
	return Distribution{Count: n, MeanMs: d.SumMs / float64(n), P50Ms: d.quantile(n, .5), P90Ms: d.quantile(n, .9), P99Ms: d.quantile(n, .99)}
}

// quantile estimates the q-quantile of n samples by linear interpolation in
// the bucket holding it (as Prometheus's histogram_quantile); the last,
// open bucket answers its lower bound.
func (d *dist) quantile(n int64, q float64) float64 {
	rank := q * float64(n)
	var seen int64
	for i, k := range d.Counts {
		if k == 0 || float64(seen+k) < rank {
			seen += k
			continue
		}
		lower := 0.0
		if i > 0 {
			lower = distBoundsMs[i-1]
		}
		if i == len(distBoundsMs) {
			return lower
		}
		return lower + (distBoundsMs[i]-lower)*(rank-float64(seen))/float64(k)
	}
	return distBoundsMs[len(distBoundsMs)-1]
}
