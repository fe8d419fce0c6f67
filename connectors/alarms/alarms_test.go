package alarms

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wispio/wisp/feeds"
	"github.com/wispio/wisp/feeds/feedstest"
)

// fakeClock moves only when the test advances it.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*fakeTimer
	created chan struct{} // one send per NewTimer
}

type fakeTimer struct {
	at time.Time
	c  chan time.Time
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }
func (t *fakeTimer) Stop() bool          { return true }

func newFakeClock(now time.Time) *fakeClock {
	return &fakeClock{now: now, created: make(chan struct{}, 1024)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), c: make(chan time.Time, 1)}
	c.timers = append(c.timers, t)
	c.created <- struct{}{}
	return t
}

// waitTimer blocks until the schedule waits on a new timer and returns
// its deadline.
func (c *fakeClock) waitTimer(t *testing.T) time.Time {
	t.Helper()
	select {
	case <-c.created:
	case <-time.After(10 * time.Second):
		t.Fatal("the schedule never waited on the clock")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.timers[len(c.timers)-1].at
}

// set moves the clock to now and fires the timers due.
func (c *fakeClock) set(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = now
	kept := c.timers[:0]
	for _, t := range c.timers {
		if !t.at.After(now) {
			t.c <- now
			continue
		}
		kept = append(kept, t)
	}
	c.timers = kept
}

// nextFire waits for the next fire sink accepts and decodes its cursor.
func nextFire(t *testing.T, sink *feedstest.Sink) (feeds.Event, cursor) {
	t.Helper()
	ev := sink.Next(t)
	c, err := parseCursor(ev.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	return ev, c
}

func raw(m map[string]any) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for k, v := range m {
		b, _ := json.Marshal(v)
		out[k] = b
	}
	return out
}

var t0 = time.Date(2030, 1, 1, 10, 0, 0, 0, time.UTC)

func newProvider(clock Clock) *Provider {
	return New(Config{Clock: clock, RetryDelay: time.Second}, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func start(t *testing.T, p *Provider, feed string, params map[string]any, cur string, sink feeds.Sink) feeds.Feed {
	t.Helper()
	f, err := p.Start(context.Background(), feeds.Registration{Trigger: "/ns/T", Provider: "alarms", Feed: feed, Params: raw(params), Cursor: cur, Created: t0.UnixMilli()}, sink)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Stop(context.Background()) })
	return f
}

func TestValidate(t *testing.T) {
	p := newProvider(newFakeClock(t0))
	cases := []struct {
		feed   string
		params map[string]any
		want   string // "" = valid
	}{
		{FeedAlarm, map[string]any{"cron": "*/5 * * * *"}, ""},
		{FeedAlarm, map[string]any{"cron": "*/10 * * * * *"}, ""},
		{FeedAlarm, map[string]any{"cron": "@hourly", "timezone": "Europe/Paris", "maxTriggers": 3}, ""},
		{FeedAlarm, map[string]any{"cron": "0 9 * * *", "trigger_payload": map[string]any{"a": 1}, "startDate": "2030-02-01T00:00:00Z", "stopDate": "2030-03-01T00:00:00Z"}, ""},
		{FeedAlarm, map[string]any{}, "cron: missing"},
		{FeedAlarm, map[string]any{"cron": "61 * * * *"}, "cron: pattern \"61 * * * *\" is not valid"},
		{FeedAlarm, map[string]any{"cron": "* * * *"}, "cron: pattern"},
		{FeedAlarm, map[string]any{"cron": "* * * * * * *"}, "cron: pattern"},
		{FeedAlarm, map[string]any{"cron": 5}, "cron: must be a string"},
		{FeedAlarm, map[string]any{"cron": "* * * * *", "timezone": "Mars/Olympus"}, "timezone: \"Mars/Olympus\""},
		{FeedAlarm, map[string]any{"cron": "* * * * *", "stopDate": "2029-12-31T00:00:00Z"}, "stopDate: 2029-12-31T00:00:00Z must be in the future"},
		{FeedAlarm, map[string]any{"cron": "* * * * *", "startDate": "2030-03-01T00:00:00Z", "stopDate": "2030-02-01T00:00:00Z"}, "stopDate: 2030-02-01T00:00:00Z must be after startDate"},
		{FeedAlarm, map[string]any{"cron": "0 0 1 6 *", "stopDate": "2030-02-01T00:00:00Z"}, "stopDate: the first scheduled fire is after the stop date"},
		{FeedAlarm, map[string]any{"cron": "* * * * *", "maxTriggers": 2, "stopDate": "2030-02-01T00:00:00Z"}, "maxTriggers: not allowed together with stopDate"},
		{FeedAlarm, map[string]any{"cron": "* * * * *", "maxTriggers": "x"}, "maxTriggers: must be an integer"},
		{FeedAlarm, map[string]any{"cron": "* * * * *", "startDate": "tomorrow"}, "startDate: \"tomorrow\" is not a valid date"},
		{FeedAlarm, map[string]any{"cron": "* * * * *", "trigger_payload": []int{1}}, "trigger_payload: must be a JSON object or a string"},
		{FeedOnce, map[string]any{"date": "2030-01-01T10:05:00Z", "deleteAfterFire": true}, ""},
		{FeedOnce, map[string]any{"date": t0.Add(time.Hour).UnixMilli()}, ""},
		{FeedOnce, map[string]any{}, "date: missing"},
		{FeedOnce, map[string]any{"date": "2029-01-01T00:00:00Z"}, "date: 2029-01-01T00:00:00Z must be in the future"},
		{FeedOnce, map[string]any{"date": "2030-01-02T00:00:00Z", "deleteAfterFire": "rules"}, "deleteAfterFire: \"rules\" is not valid"},
		{FeedInterval, map[string]any{"minutes": 5}, ""},
		{FeedInterval, map[string]any{"minutes": "15", "stopDate": "2030-01-02T00:00:00Z"}, ""},
		{FeedInterval, map[string]any{}, "minutes: missing"},
		{FeedInterval, map[string]any{"minutes": 0}, "minutes: 0 is not valid"},
		{FeedInterval, map[string]any{"minutes": 1.5}, "minutes: must be an integer"},
		{FeedInterval, map[string]any{"minutes": 5, "maxTriggers": 3}, "maxTriggers: not supported by the interval feed"},
	}
	for _, c := range cases {
		name := c.feed + "/" + c.want
		t.Run(name, func(t *testing.T) {
			err := p.Validate(context.Background(), c.feed, raw(c.params))
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("Validate(%v) = %v", c.params, err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("Validate(%v) = %v, want %q", c.params, err, c.want)
			}
		})
	}
}

func TestNextFire(t *testing.T) {
	cases := []struct {
		name   string
		feed   string
		params map[string]any
		after  time.Time
		want   time.Time
	}{
		{"5 fields", FeedAlarm, map[string]any{"cron": "*/5 * * * *"}, t0.Add(2 * time.Minute), t0.Add(5 * time.Minute)},
		{"6 fields, seconds first", FeedAlarm, map[string]any{"cron": "*/10 * * * * *"}, t0.Add(3 * time.Second), t0.Add(10 * time.Second)},
		{"timezone New York", FeedAlarm, map[string]any{"cron": "0 9 * * *", "timezone": "America/New_York"}, t0, time.Date(2030, 1, 1, 14, 0, 0, 0, time.UTC)},
		{"timezone Tokyo", FeedAlarm, map[string]any{"cron": "0 9 * * *", "timezone": "Asia/Tokyo"}, t0, time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC)},
		{"interval from created", FeedInterval, map[string]any{"minutes": 5}, t0, t0.Add(5 * time.Minute)},
		{"interval skips to the next slot", FeedInterval, map[string]any{"minutes": 5, "startDate": "2030-01-01T09:00:00Z"}, t0.Add(12 * time.Minute), t0.Add(15 * time.Minute)},
		{"interval before start", FeedInterval, map[string]any{"minutes": 5, "startDate": "2030-01-01T11:00:00Z"}, t0, t0.Add(time.Hour)},
		{"once", FeedOnce, map[string]any{"date": "2030-01-01T10:30:00Z"}, t0, t0.Add(30 * time.Minute)},
		{"once passed", FeedOnce, map[string]any{"date": "2030-01-01T10:30:00Z"}, t0.Add(time.Hour), time.Time{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := parse(c.feed, raw(c.params))
			if err != nil {
				t.Fatal(err)
			}
			if got := s.next(s.from(c.after), t0); !got.Equal(c.want) {
				t.Errorf("next after %s = %s, want %s", c.after, got, c.want)
			}
		})
	}
}

func TestAlarmFiresUntilMaxTriggers(t *testing.T) {
	clock := newFakeClock(t0)
	sink := feedstest.NewSink()
	start(t, newProvider(clock), FeedAlarm, map[string]any{"cron": "* * * * * *", "maxTriggers": 3, "trigger_payload": "hello"}, "", sink)
	for i := 1; i <= 3; i++ {
		at := clock.waitTimer(t)
		if want := t0.Add(time.Duration(i) * time.Second); !at.Equal(want) {
			t.Fatalf("fire %d scheduled at %s, want %s", i, at, want)
		}
		clock.set(at)
		ev, c := nextFire(t, sink)
		if string(ev.Payload) != `{"payload":"hello"}` || c.Fired != i || c.Last != at.UnixMilli() {
			t.Errorf("fire %d: payload %s cursor %+v", i, ev.Payload, c)
		}
	}
	if sink.WaitDone(t) {
		t.Error("maxTriggers asked to delete the trigger")
	}
}

func TestRestartSkipsMissedCronFires(t *testing.T) {
	clock := newFakeClock(t0.Add(30 * time.Second))
	sink := feedstest.NewSink()
	// Last fired an hour ago, two of five fires done.
	cur, _ := json.Marshal(cursor{Last: t0.Add(-time.Hour).UnixMilli(), Fired: 2})
	start(t, newProvider(clock), FeedAlarm, map[string]any{"cron": "* * * * *", "maxTriggers": 5}, string(cur), sink)
	at := clock.waitTimer(t)
	if want := t0.Add(time.Minute); !at.Equal(want) {
		t.Fatalf("first fire after restart at %s, want %s (missed fires skipped)", at, want)
	}
	clock.set(at)
	if _, c := nextFire(t, sink); c.Fired != 3 {
		t.Errorf("fire count after restart = %d, want 3", c.Fired)
	}
	if n := sink.Count(); n != 1 {
		t.Errorf("%d fires after restart, want 1", n)
	}
}

func TestOnce(t *testing.T) {
	t.Run("fires at its date and deletes", func(t *testing.T) {
		clock := newFakeClock(t0)
		sink := feedstest.NewSink()
		start(t, newProvider(clock), FeedOnce, map[string]any{"date": "2030-01-01T10:00:05Z", "deleteAfterFire": "true", "trigger_payload": map[string]any{"k": "v"}}, "", sink)
		clock.set(clock.waitTimer(t))
		if ev, _ := nextFire(t, sink); string(ev.Payload) != `{"k":"v"}` {
			t.Errorf("payload %s", ev.Payload)
		}
		if !sink.WaitDone(t) {
			t.Error("deleteAfterFire not passed to Done")
		}
	})
	t.Run("missed while down fires at start", func(t *testing.T) {
		clock := newFakeClock(t0.Add(time.Hour))
		sink := feedstest.NewSink()
		start(t, newProvider(clock), FeedOnce, map[string]any{"date": "2030-01-01T10:00:05Z"}, "", sink)
		if _, c := nextFire(t, sink); c.Fired != 1 {
			t.Errorf("cursor %+v", c)
		}
		if sink.WaitDone(t) {
			t.Error("deleteAfterFire defaulted to true")
		}
	})
	t.Run("already fired does not fire again", func(t *testing.T) {
		clock := newFakeClock(t0.Add(time.Hour))
		sink := feedstest.NewSink()
		cur, _ := json.Marshal(cursor{Last: t0.UnixMilli(), Fired: 1})
		start(t, newProvider(clock), FeedOnce, map[string]any{"date": "2030-01-01T10:00:05Z", "deleteAfterFire": true}, string(cur), sink)
		if !sink.WaitDone(t) {
			t.Error("Done without deleteAfterFire")
		}
		if n := sink.Count(); n != 0 {
			t.Errorf("%d fires, want 0", n)
		}
	})
}

func TestIntervalStopsAtStopDate(t *testing.T) {
	clock := newFakeClock(t0)
	sink := feedstest.NewSink()
	start(t, newProvider(clock), FeedInterval, map[string]any{"minutes": 10, "stopDate": "2030-01-01T10:25:00Z"}, "", sink)
	for i := 1; i <= 2; i++ {
		clock.set(clock.waitTimer(t))
		nextFire(t, sink)
	}
	if sink.WaitDone(t) {
		t.Error("stopDate asked to delete the trigger")
	}
}

func TestDeliverRetriedAndReported(t *testing.T) {
	clock := newFakeClock(t0)
	sink := feedstest.NewSink()
	sink.FailNext(1)
	start(t, newProvider(clock), FeedAlarm, map[string]any{"cron": "* * * * * *", "maxTriggers": 1}, "", sink)
	clock.set(clock.waitTimer(t)) // the fire
	clock.set(clock.waitTimer(t)) // the retry delay
	nextFire(t, sink)
	sink.WaitDone(t)
	if reports := sink.Reports(); len(reports) != 2 || reports[0] == nil || reports[1] != nil {
		t.Errorf("reports %v, want [error, nil]", reports)
	}
}

func TestStopEndsTheSchedule(t *testing.T) {
	clock := newFakeClock(t0)
	sink := feedstest.NewSink()
	f := start(t, newProvider(clock), FeedAlarm, map[string]any{"cron": "* * * * *"}, "", sink)
	clock.waitTimer(t)
	if err := f.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	clock.set(t0.Add(time.Hour))
	if n := sink.Count(); n != 0 {
		t.Errorf("%d fires after Stop", n)
	}
}

// A feed that starts again soon after its last fire (a restart, another
// feeds node taking it over) fires what it missed since, in order, then
// keeps to its schedule; what lies beyond the catch-up window is skipped
// (TestRestartSkipsMissedCronFires).
func TestRestartCatchesUpRecentFires(t *testing.T) {
	clock := newFakeClock(t0.Add(30 * time.Second))
	sink := feedstest.NewSink()
	cur, _ := json.Marshal(cursor{Last: t0.Add(27 * time.Second).UnixMilli(), Fired: 7})
	start(t, newProvider(clock), FeedAlarm, map[string]any{"cron": "* * * * * *"}, string(cur), sink)
	for i, want := range []time.Duration{28 * time.Second, 29 * time.Second, 30 * time.Second} {
		_, c := nextFire(t, sink)
		if c.Last != t0.Add(want).UnixMilli() || c.Fired != 8+i {
			t.Fatalf("catch-up fire %d: cursor %+v, want the fire of %s, count %d", i, c, t0.Add(want), 8+i)
		}
	}
	if at := clock.waitTimer(t); !at.Equal(t0.Add(31 * time.Second)) {
		t.Fatalf("next fire after the catch-up at %s, want %s", at, t0.Add(31*time.Second))
	}
}
