package metrics

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/wispio/wisp/entity"
)

// clock is a settable time for Recent.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func withClock(start time.Time) (*Metrics, *clock) {
	c := &clock{t: start}
	m := New()
	m.recent = newRecent(c.now)
	return m, c
}

func record(ns, name string, status, durationMs int, cold bool) *entity.Activation {
	a := entity.Params{}.Set("path", ns+"/"+name).Set("kind", "nodejs:20").Set("waitTime", 4)
	if cold {
		a = a.Set("initTime", 30)
	}
	return &entity.Activation{Namespace: ns, Name: name, Duration: int64(durationMs), Response: entity.Response{StatusCode: status}, Annotations: a}
}

// The view counts each activation, fire and feed event in its minute and
// namespace, and nothing of another namespace.
func TestNamespaceViewCounts(t *testing.T) {
	start := time.Date(2026, 12, 3, 10, 0, 30, 0, time.UTC)
	m, c := withClock(start)
	m.ObserveActivation(record("a", "hello", entity.StatusSuccess, 10, true))
	m.ObserveActivation(record("a", "hello", entity.StatusApplicationError, 20, false))
	m.ObserveActivation(record("b", "other", entity.StatusSuccess, 5, false))
	c.t = start.Add(time.Minute)
	m.ObserveTriggerActivation(&entity.Activation{Namespace: "a", Name: "tick", Logs: []string{`{"success":true}`, `{"success":false,"error":"Rule 'a/r' is inactive"}`}})
	trigger := entity.FQN{Namespace: "a", Name: "tick"}
	m.FeedEventReceived("alarms", trigger)
	m.FeedEventFired("alarms", trigger, 40*time.Millisecond)
	m.FeedEventReceived("alarms", trigger)
	m.FeedEventFailed("alarms", trigger)

	v := m.NamespaceView("a", start.Add(-time.Hour))
	if len(v.Minutes) != recentMinutes {
		t.Fatalf("%d minutes, want %d", len(v.Minutes), recentMinutes)
	}
	first, second := v.Minutes[len(v.Minutes)-2], v.Minutes[len(v.Minutes)-1]
	if first.Start != start.Truncate(time.Minute).UnixMilli() {
		t.Errorf("the first activations' minute starts at %d, want %d", first.Start, start.Truncate(time.Minute).UnixMilli())
	}
	for _, tt := range []struct {
		name      string
		got, want any
	}{
		{"invocations", first.Invocations, int64(2)},
		{"errors", first.Errors, int64(1)},
		{"successes", first.Status["success"], int64(1)},
		{"application errors", first.Status["application_error"], int64(1)},
		{"cold starts", first.ColdStarts, int64(1)},
		{"durations", first.Duration.Count, int64(2)},
		{"mean duration", first.Duration.MeanMs, 15.0},
		{"wait times", first.WaitTime.Count, int64(2)},
		{"no fire in the first minute", first.TriggerFires, int64(0)},
		{"fires", second.TriggerFires, int64(1)},
		{"rules activated", second.Rules["activated"], int64(1)},
		{"rules inactive", second.Rules["inactive"], int64(1)},
		{"feed events", second.FeedEvents, FeedCounts{Received: 2, Fired: 1, Failed: 1}},
		{"feed lag", second.FeedLag.Count, int64(1)},
		{"actions", v.Actions, []ActionView{{Name: "hello", Invocations: 2, Errors: 1, ColdStarts: 1, MeanMs: 15}}},
		{"trigger", v.Triggers, []TriggerView{{Name: "tick", Provider: "alarms", Fires: 1, LastFire: c.t.UnixMilli(), LastEvent: c.t.UnixMilli(),
			FeedEvents: FeedCounts{Received: 2, Fired: 1, Failed: 1}, LastLagMs: 40, MeanLagMs: 40}}},
	} {
		if fmt.Sprint(tt.got) != fmt.Sprint(tt.want) {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	b := m.NamespaceView("b", start)
	if got := b.Minutes[0].Invocations; got != 1 || len(b.Triggers) != 0 {
		t.Errorf("namespace b sees %d invocations and %d triggers, want 1 and 0", got, len(b.Triggers))
	}
	if v := m.NamespaceView("nobody", start); len(v.Actions) != 0 || v.Minutes[0].Invocations != 0 {
		t.Errorf("an unknown namespace sees %+v", v)
	}
}

// The window is at most the last hour: a minute an hour old is gone, and
// since narrows the buckets.
func TestNamespaceViewWindow(t *testing.T) {
	start := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	m, c := withClock(start)
	m.ObserveActivation(record("a", "x", 0, 1, false))
	c.t = start.Add(30 * time.Minute)
	m.ObserveActivation(record("a", "x", 0, 1, false))
	for _, tt := range []struct {
		after       time.Duration
		since       time.Time
		minutes     int
		invocations int64
	}{
		{30 * time.Minute, start, 31, 2},
		{30 * time.Minute, start.Add(10 * time.Minute), 21, 1},
		{30 * time.Minute, time.Time{}, recentMinutes, 2},
		{60 * time.Minute, time.Time{}, recentMinutes, 1}, // the first minute is an hour old
		{90 * time.Minute, time.Time{}, recentMinutes, 0},
		{90 * time.Minute, start.Add(2 * time.Hour), 1, 0}, // since in the future: the current minute
	} {
		c.t = start.Add(tt.after)
		v := m.NamespaceView("a", tt.since)
		var n int64
		for _, b := range v.Minutes {
			n += b.Invocations
		}
		if len(v.Minutes) != tt.minutes || n != tt.invocations {
			t.Errorf("at +%s since %s: %d minutes, %d invocations; want %d, %d", tt.after, tt.since, len(v.Minutes), n, tt.minutes, tt.invocations)
		}
	}
	if got := m.NamespaceView("a", time.Time{}).Actions; len(got) != 0 {
		t.Errorf("actions after the hour: %+v", got)
	}
}

// The ring is bounded: past recentNames actions the rest count as one,
// past recentNamespaces the least recent namespace gives its place.
func TestRecentBounds(t *testing.T) {
	start := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	m, c := withClock(start)
	for i := range recentNames + 5 {
		m.ObserveActivation(record("a", fmt.Sprintf("act%d", i), 0, 1, false))
	}
	v := m.NamespaceView("a", start)
	if len(v.Actions) != recentNames+1 {
		t.Fatalf("%d actions listed, want %d and %s", len(v.Actions), recentNames, OtherName)
	}
	for _, a := range v.Actions {
		if a.Name == OtherName && a.Invocations != 5 {
			t.Errorf("%s counts %d, want 5", OtherName, a.Invocations)
		}
	}
	for i := range recentNamespaces {
		c.t = start.Add(time.Duration(i+1) * time.Millisecond)
		m.ObserveActivation(record(fmt.Sprintf("ns%d", i), "x", 0, 1, false))
	}
	m.recent.mu.Lock()
	n := len(m.recent.spaces)
	_, kept := m.recent.spaces["a"]
	m.recent.mu.Unlock()
	if n != recentNamespaces {
		t.Errorf("%d namespaces kept, want %d", n, recentNamespaces)
	}
	if kept {
		t.Error("the least recent namespace was kept")
	}
}

func TestDistQuantile(t *testing.T) {
	var d dist
	for range 90 {
		d.observe(3) // (2.5, 5]
	}
	for range 10 {
		d.observe(400) // (250, 500]
	}
	v := d.view()
	for _, tt := range []struct {
		name     string
		got      float64
		low, top float64
	}{{"p50", v.P50Ms, 2.5, 5}, {"p90", v.P90Ms, 2.5, 5}, {"p99", v.P99Ms, 250, 500}} {
		if tt.got < tt.low || tt.got > tt.top {
			t.Errorf("%s = %v, want within (%v, %v]", tt.name, tt.got, tt.low, tt.top)
		}
	}
	if v.Count != 100 || v.MeanMs != (90*3+10*400)/100.0 {
		t.Errorf("count %d mean %v", v.Count, v.MeanMs)
	}
}

// BenchmarkRecentActivation is the cost the namespace view adds to each
// activation record (part of BenchmarkObserveActivation).
func BenchmarkRecentActivation(b *testing.B) {
	r := newRecent(time.Now)
	for b.Loop() {
		r.activation("caller", "act", 0, false, 3, 1, true)
	}
}

// What a sharing process records reaches another's view through
// TakeRecent and MergeRecent once, and is not sent on again.
func TestShareRecent(t *testing.T) {
	start := time.Date(2026, 12, 3, 10, 0, 30, 0, time.UTC)
	a, _ := withClock(start)
	b, _ := withClock(start)
	a.ShareRecent()
	b.ShareRecent()
	if got := a.TakeRecent(); got != nil {
		t.Fatalf("a share before anything was recorded: %s", got)
	}
	a.ObserveActivation(record("ns", "hello", entity.StatusSuccess, 10, true))
	a.ObserveActivation(record("ns", "hello", entity.StatusDeveloperError, 30, false))
	a.FeedEventReceived("mqtt", entity.FQN{Namespace: "ns", Name: "T"})
	a.FeedEventFired("mqtt", entity.FQN{Namespace: "ns", Name: "T"}, 25*time.Millisecond)
	b.ObserveActivation(record("ns", "hello", entity.StatusSuccess, 20, false))
	share := a.TakeRecent()
	if share == nil {
		t.Fatal("nothing to share")
	}
	if again := a.TakeRecent(); again != nil {
		t.Errorf("shared twice: %s", again)
	}
	if err := b.MergeRecent(share); err != nil {
		t.Fatal(err)
	}
	v := b.NamespaceView("ns", start)
	last := v.Minutes[len(v.Minutes)-1]
	if v.Scope != ScopeCluster || last.Invocations != 3 || last.Errors != 1 || last.ColdStarts != 1 || last.Duration.Count != 3 || last.FeedEvents.Fired != 1 {
		t.Errorf("b's view after the merge: scope %s, minute %+v", v.Scope, last)
	}
	want := fmt.Sprint([]ActionView{{Name: "hello", Invocations: 3, Errors: 1, ColdStarts: 1, MeanMs: 20}})
	if got := fmt.Sprint(v.Actions); got != want {
		t.Errorf("b's actions = %s, want %s", got, want)
	}
	if len(v.Triggers) != 1 || v.Triggers[0].Provider != "mqtt" || v.Triggers[0].LastLagMs != 25 || v.Triggers[0].LastEvent != start.UnixMilli() {
		t.Errorf("b's triggers = %+v", v.Triggers)
	}
	var own map[string]sharedSpace
	if err := json.Unmarshal(b.TakeRecent(), &own); err != nil || len(own["ns"].Minutes) != 1 || own["ns"].Minutes[0].Invocations != 1 {
		t.Errorf("b shares %+v (%v), want its own one invocation only", own, err)
	}
	if err := b.MergeRecent([]byte("{")); err == nil {
		t.Error("a broken share was merged")
	}
}
