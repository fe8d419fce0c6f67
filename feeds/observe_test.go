package feeds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/wispio/wisp/metrics"
	"github.com/wispio/wisp/store"
)

// sample is the value of the series name{provider="fake"} in reg (0 when
// absent); for a histogram, its sample count.
func sample(t *testing.T, m *metrics.Metrics, name string) float64 {
	t.Helper()
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() != "provider" || l.GetValue() != "fake" {
					continue
				}
				switch {
				case s.Counter != nil:
					return s.Counter.GetValue()
				case s.Gauge != nil:
					return s.Gauge.GetValue()
				case s.Histogram != nil:
					return float64(s.Histogram.GetSampleCount())
				}
			}
		}
	}
	return 0
}

// The feed metrics move once per event: received for every delivery,
// fired for each fire (its lag observed), failed for each refusal and
// each event dropped; the outbox gauge counts the events not yet fired.
func TestFeedMetrics(t *testing.T) {
	m := metrics.New()
	h := newHarnessWith(t, openStore(t), Config{Observer: m})
	m.WatchOutbox(h.m.OutboxDepth)
	h.trigger("ns", "T")
	h.firer.failures, h.firer.err = -1, errors.New("bus down") // fails until told otherwise
	h.start()
	feed := h.create("ns", "/ns/T")
	large := `{"n":"large","v":"` + strings.Repeat("x", 1<<20) + `"}`
	for _, ev := range []Event{event(1, ""), {Payload: json.RawMessage(large)}, event(2, ""), {Cursor: "c"}} {
		if err := feed.sink.Deliver(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := feed.sink.Deliver(context.Background(), Event{Payload: json.RawMessage(`[1]`)}); err == nil {
		t.Fatal("a payload that is not an object was taken")
	}
	if got := sample(t, m, "wisp_feed_outbox_events"); got != 2 {
		t.Errorf("outbox = %v while the fires fail, want 2", got)
	}
	h.firer.mu.Lock()
	h.firer.failures = 0
	h.firer.mu.Unlock()
	h.waitFired("1", "2")
	if err := h.m.Close(context.Background()); err != nil { // waits for the worker to finish the fire
		t.Fatal(err)
	}
	for name, want := range map[string]float64{
		"wisp_feed_events_received_total": 4, // the bare cursor is no event
		"wisp_feed_events_fired_total":    2,
		"wisp_feed_events_failed_total":   2, // too large, not an object
		"wisp_feed_lag_seconds":           2,
		"wisp_feed_outbox_events":         0,
	} {
		if got := sample(t, m, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

// Events dropped with their gone trigger count as failed.
func TestFeedMetricsTriggerGone(t *testing.T) {
	m := metrics.New()
	h := newHarnessWith(t, openStore(t), Config{Observer: m})
	h.trigger("ns", "T")
	h.firer.failures, h.firer.err = 1, fmt.Errorf("fire trigger /ns/T: %w", store.ErrNotFound)
	h.start()
	feed := h.create("ns", "/ns/T")
	if err := feed.sink.Deliver(context.Background(), event(1, "")); err != nil {
		t.Fatal(err)
	}
	<-feed.stopped // after the drop
	for name, want := range map[string]float64{"wisp_feed_events_failed_total": 1, "wisp_feed_events_fired_total": 0} {
		if got := sample(t, m, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}
