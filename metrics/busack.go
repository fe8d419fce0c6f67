package metrics

import (
	"context"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wispio/wisp/bus"
)

// busAckMetrics time how long consumers hold a message before they ack or
// nack it, and count the redeliveries: on NATS each message delivered
// again (bus.Deliveries above 1: nacked, or its ack wait expired), on the
// embedded bus each nack.
type busAckMetrics struct {
	ack         *prometheus.HistogramVec
	redelivered *prometheus.CounterVec
}

func newBusAck(reg *prometheus.Registry) busAckMetrics {
	a := busAckMetrics{
		ack: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "wisp_bus_ack_seconds",
			Help:    "Time from a queue message's delivery to its consumer's ack or nack, by topic and result (ack, nack)",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"topic", "result"}),
		redelivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wisp_bus_redeliveries_total", Help: "Queue messages delivered again, by topic: on NATS each redelivery (after a nack or an expired ack wait), on the embedded bus each nack",
		}, []string{"topic"}),
	}
	reg.MustRegister(a.ack, a.redelivered)
	return a
}

// Queue is the bus's queue, its messages timed to their ack or nack.
func (t timedBus) Queue(ctx context.Context, topic, consumer string, ackWait time.Duration) (message.Subscriber, error) {
	sub, err := t.Bus.Queue(ctx, topic, consumer, ackWait)
	if err != nil {
		return nil, err
	}
	return ackTimed{Subscriber: sub, m: t.ack}, nil
}

// SharedQueue is the bus's shared queue, its messages timed to their ack
// or nack.
func (t timedBus) SharedQueue(ctx context.Context, topic, consumer string, ackWait time.Duration) (message.Subscriber, error) {
	sub, err := t.Bus.SharedQueue(ctx, topic, consumer, ackWait)
	if err != nil {
		return nil, err
	}
	return ackTimed{Subscriber: sub, m: t.ack}, nil
}

// ackTimed is a subscriber whose messages are timed from delivery to ack
// or nack. The bus's subscriptions hand over one message at a time and
// wait for its ack or nack; each forwarding goroutine does the same, so no
// goroutine is added per message.
type ackTimed struct {
	message.Subscriber
	m busAckMetrics
}

func (a ackTimed) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	in, err := a.Subscriber.Subscribe(ctx, topic)
	if err != nil {
		return nil, err
	}
	label := topicLabel(topic)
	ack, nack := a.m.ack.WithLabelValues(label, "ack"), a.m.ack.WithLabelValues(label, "nack")
	redelivered := a.m.redelivered.WithLabelValues(label)
	out := make(chan *message.Message)
	go func() {
		defer close(out)
		for msg := range in {
			start := time.Now()
			// A bus that counts deliveries (NATS) tells every redelivery,
			// after a nack or an expired ack wait; on one that does not
			// (the embedded bus, which has no ack wait) a nack is one.
			n, counted := bus.Deliveries(msg)
			if counted && n > 1 {
				redelivered.Inc()
			}
			select {
			case out <- msg:
			case <-ctx.Done():
				return
			}
			select {
			case <-msg.Acked():
				ack.Observe(time.Since(start).Seconds())
			case <-msg.Nacked():
				nack.Observe(time.Since(start).Seconds())
				if !counted {
					redelivered.Inc()
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}
