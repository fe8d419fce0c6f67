package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wispio/wisp/entity"
)

// feedMetrics count feed events and time them from receipt to fire.
type feedMetrics struct {
	received, fired, failed *prometheus.CounterVec
	lag                     *prometheus.HistogramVec
}

func newFeedMetrics(reg *prometheus.Registry) feedMetrics {
	by := []string{"provider"}
	f := feedMetrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wisp_feed_events_received_total", Help: "Events the feed providers delivered, by provider",
		}, by),
		fired: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wisp_feed_events_fired_total", Help: "Feed events whose trigger was fired, by provider",
		}, by),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wisp_feed_events_failed_total", Help: "Feed events that will never fire (refused, not stored, dropped), by provider",
		}, by),
		lag: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "wisp_feed_lag_seconds",
			Help:    "Time from a feed event's receipt to its trigger's fire, retries included, by provider",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, by),
	}
	reg.MustRegister(f.received, f.fired, f.failed, f.lag)
	return f
}

// FeedEventReceived counts an event a feed provider delivered
// (feeds.Observer).
func (m *Metrics) FeedEventReceived(provider string, trigger entity.FQN) {
	if m == nil {
		return
	}
	m.feeds.received.WithLabelValues(provider).Inc()
	m.recent.feedEvent(trigger.Namespace, trigger.Name, provider, trgReceived, 0)
}

// FeedEventFired counts a fired feed event and records its lag
// (feeds.Observer).
func (m *Metrics) FeedEventFired(provider string, trigger entity.FQN, lag time.Duration) {
	if m == nil {
		return
	}
	m.feeds.fired.WithLabelValues(provider).Inc()
	m.feeds.lag.WithLabelValues(provider).Observe(lag.Seconds())
	m.recent.feedEvent(trigger.Namespace, trigger.Name, provider, trgFired, lag)
}

// FeedEventFailed counts a feed event that will never fire
// (feeds.Observer).
func (m *Metrics) FeedEventFailed(provider string, trigger entity.FQN) {
	if m == nil {
		return
	}
	m.feeds.failed.WithLabelValues(provider).Inc()
	m.recent.feedEvent(trigger.Namespace, trigger.Name, provider, trgFail, 0)
}

// outboxCollector reads the feeds' outbox depth at each scrape.
type outboxCollector struct {
	depth func() map[string]int
	desc  *prometheus.Desc
}

// WatchOutbox exports wisp_feed_outbox_events{provider}: the events
// delivered and not yet fired, read with depth at each scrape.
func (m *Metrics) WatchOutbox(depth func() map[string]int) {
	if m == nil {
		return
	}
	m.reg.MustRegister(&outboxCollector{depth: depth, desc: prometheus.NewDesc("wisp_feed_outbox_events",
		"Feed events delivered and not yet fired (the outbox), by provider", []string{"provider"}, nil)})
}

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	for provider, n := range c.depth() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), provider)
	}
}
