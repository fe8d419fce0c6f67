package metrics

import (
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wispio/wisp/entity"
)

// TestEntitySeriesBounded: the per-action and per-trigger series are
// labelled by names tenants choose, so a namespace that creates and runs
// action after action would add series without end; past maxEntitySeries
// distinct names the rest count under otherLabel, and the names already
// seen keep their own series.
func TestEntitySeriesBounded(t *testing.T) {
	m := New()
	const extra = 50
	for i := range maxEntitySeries + extra {
		name := fmt.Sprintf("a%d", i)
		m.ObserveActivation(&entity.Activation{Namespace: "ns", Name: name, Duration: 1})
		m.ObserveTriggerActivation(&entity.Activation{Namespace: "ns", Name: name})
	}
	m.ObserveActivation(&entity.Activation{Namespace: "ns", Name: "a0", Duration: 1}) // seen: its own series
	for _, tt := range []struct {
		name   string
		series int
	}{
		{"activations", testutil.CollectAndCount(m.activations)},
		{"duration", testutil.CollectAndCount(m.duration)},
		{"trigger fires", testutil.CollectAndCount(m.triggers.fires)},
	} {
		if tt.series > maxEntitySeries+1 {
			t.Errorf("%s: %d series, want at most %d and the overflow", tt.name, tt.series, maxEntitySeries)
		}
	}
	if got := testutil.ToFloat64(m.activations.WithLabelValues("ns", "ns", otherLabel, "", "0")); got != extra {
		t.Errorf("the overflow counted %v activations, want %d", got, extra)
	}
	if got := testutil.ToFloat64(m.activations.WithLabelValues("ns", "ns", "a0", "", "0")); got != 2 {
		t.Errorf("a0 counted %v activations, want 2", got)
	}
}
