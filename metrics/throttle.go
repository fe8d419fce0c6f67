package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// throttleMetrics count the throttle's refusals, with OpenWhisk's names for
// invocations (openwhisk_action_limit_concurrent_total and
// openwhisk_action_limit_timed_total) and Wisp's for fires.
type throttleMetrics struct {
	concurrent, timed, fires *prometheus.CounterVec
}

func newThrottleMetrics(reg *prometheus.Registry) throttleMetrics {
	t := throttleMetrics{
		concurrent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "openwhisk_action_limit_concurrent_total", Help: "a user has exceeded its limit for concurrent invocations",
		}, []string{labelNamespace}),
		timed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "openwhisk_action_limit_timed_total", Help: "the user has reached its per minute limit for the number of invocations",
		}, []string{labelNamespace}),
		fires: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wisp_trigger_limit_timed_total", Help: "Trigger fires refused: the namespace reached its per minute limit of fires",
		}, []string{labelNamespace}),
	}
	reg.MustRegister(t.concurrent, t.timed, t.fires)
	return t
}

// Refused records one throttle refusal of namespace ns: of a fire, or of an
// invocation over the concurrent or the per-minute limit.
func (m *Metrics) Refused(ns string, concurrent, fire bool) {
	if m == nil {
		return
	}
	switch {
	case fire:
		m.throttle.fires.WithLabelValues(ns).Inc()
	case concurrent:
		m.throttle.concurrent.WithLabelValues(ns).Inc()
	default:
		m.throttle.timed.WithLabelValues(ns).Inc()
	}
}
