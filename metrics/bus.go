package metrics

import (
	"context"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wispio/wisp/bus"
)

// timedBus is a bus whose publishes are timed.
type timedBus struct {
	bus.Bus
	publish *prometheus.HistogramVec
	ack     busAckMetrics
}

// InstrumentBus returns b with each Publish timed into
// wisp_bus_publish_seconds{topic,result}: how long the bus took to accept
// (on NATS, JetStream to store) the messages; and each queue message
// timed from delivery to ack or nack into wisp_bus_ack_seconds{topic,result},
// its nacks counted in wisp_bus_redeliveries_total{topic}. The topic label is bounded:
// the per-process queues (invoker.ID, completions.ID) count under their
// prefix. A nil *Metrics returns b as it is.
func (m *Metrics) InstrumentBus(b bus.Bus) bus.Bus {
	if m == nil {
		return b
	}
	return timedBus{Bus: b, publish: m.busPublish, ack: m.busAck}
}

func newBusPublish(reg *prometheus.Registry) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "wisp_bus_publish_seconds",
		Help:    "Time the bus took to accept a publish (JetStream's store on NATS), by topic and result (ok, error)",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"topic", "result"})
	reg.MustRegister(h)
	return h
}

// topicLabel bounds a topic: a per-process queue counts under its prefix.
func topicLabel(topic string) string {
	for _, prefix := range []string{bus.TopicInvokerPrefix, bus.TopicCompletionsPrefix} {
		if strings.HasPrefix(topic, prefix) {
			return strings.TrimSuffix(prefix, ".")
		}
	}
	return topic
}

func (t timedBus) Publish(topic string, msgs ...*message.Message) error {
	start := time.Now()
	err := t.Bus.Publish(topic, msgs...)
	result := "ok"
	if err != nil {
		result = "error"
	}
	t.publish.WithLabelValues(topicLabel(topic), result).Observe(time.Since(start).Seconds())
	return err
}

// Ping passes GET /readyz's bus check on to the bus; a bus that cannot
// tell (the in-process one) answers while the process runs.
func (t timedBus) Ping(ctx context.Context) error {
	if p, ok := t.Bus.(interface{ Ping(context.Context) error }); ok {
		return p.Ping(ctx)
	}
	return nil
}
