package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wispio/wisp/entity"
)

func TestObserveActivationLabels(t *testing.T) {
	m := New()
	act := &entity.Activation{
		Namespace: "caller", Name: "pkg/act", Duration: 1500,
		Response: entity.Response{StatusCode: entity.StatusWhiskError},
		Annotations: entity.Params{}.Set("path", "owner/pkg/act").Set("kind", "python:3").
			Set("limits", map[string]int{"memory": 128}).Set("waitTime", 20).Set("initTime", 300),
	}
	m.ObserveActivation(act)
	m.ObserveActivation(&entity.Activation{Namespace: "caller", Name: "pkg/act", Annotations: entity.Params{}.Set("path", "owner/pkg/act").Set("kind", "python:3")})
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"activations", testutil.ToFloat64(m.activations.WithLabelValues("owner", "caller", "pkg/act", "python:3", "128")), 1},
		{"cold starts", testutil.ToFloat64(m.coldStarts.WithLabelValues("owner", "caller", "pkg/act")), 1},
		{"internal errors", testutil.ToFloat64(m.status.WithLabelValues("owner", "caller", "pkg/act", "internal_error")), 1},
		{"successes", testutil.ToFloat64(m.status.WithLabelValues("owner", "caller", "pkg/act", "success")), 1},
		{"memory", testutil.ToFloat64(m.memory.WithLabelValues("owner", "caller", "pkg/act")), 128},
		{"init time series", float64(testutil.CollectAndCount(m.initTime)), 1},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

func TestNilMetricsRecordNothing(t *testing.T) {
	var m *Metrics
	m.ObserveActivation(&entity.Activation{})
	m.ObserveTriggerActivation(&entity.Activation{})
	m.WatchPool("i", func() PoolStats { return PoolStats{} })
}

func TestObserveTriggerActivation(t *testing.T) {
	m := New()
	m.ObserveTriggerActivation(&entity.Activation{Namespace: "ns", Name: "t", Logs: []string{
		`{"success":true,"activationId":"a"}`,
		`{"success":false,"error":"Rule 'ns/r2' is inactive, action 'a' was not activated."}`,
		`{"success":false,"error":"action does not exist"}`,
		`{"statusCode":1,"success":false,"error":"Rule 'ns/r3' filtered the event out: the filter did not match; action 'a' was not activated.","filtered":true}`,
		`{"statusCode":1,"success":false,"error":"2 rules filtered the event out: the filter did not match; their actions were not activated.","filtered":true,"count":2,"rules":["ns/r4","ns/r5"]}`,
		`not json`,
	}})
	for outcome, want := range map[string]float64{"activated": 1, "inactive": 1, "failed": 1, "filtered": 3} {
		if got := testutil.ToFloat64(m.triggers.rules.WithLabelValues("ns", "t", outcome)); got != want {
			t.Errorf("rule outcome %s = %v, want %v", outcome, got, want)
		}
	}
	if got := testutil.ToFloat64(m.triggers.fires.WithLabelValues("ns", "t")); got != 1 {
		t.Errorf("fires = %v, want 1", got)
	}
}

// BenchmarkObserveActivation is the cost metrics add to each activation
// record the invoker writes.
func BenchmarkObserveActivation(b *testing.B) {
	m := New()
	act := &entity.Activation{
		Namespace: "caller", Name: "act", Duration: 3,
		Annotations: entity.Params{}.Set("path", "owner/act").Set("kind", "nodejs:20").
			Set("limits", map[string]int{"timeout": 60000, "memory": 256, "logs": 10, "concurrency": 1}).Set("waitTime", 1).Set("timeout", false),
	}
	for b.Loop() {
		m.ObserveActivation(act)
	}
}
