package metrics

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wispio/wisp/bus"
	"github.com/wispio/wisp/internal/testenv"
)

// Each queue message delivered through an instrumented bus is timed to
// its ack or nack, under its topic's bounded label, and each nack counts
// one redelivery.
func TestBusAckAndRedeliveries(t *testing.T) {
	for _, tt := range []struct {
		name string
		open func(t *testing.T) bus.Bus
	}{
		{"embedded", func(t *testing.T) bus.Bus {
			b, err := bus.OpenEmbedded(filepath.Join(t.TempDir(), "queue.db"), time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			return b
		}},
		{"nats", func(t *testing.T) bus.Bus {
			url := testenv.NATS(t)
			b, err := bus.ConnectNATS(t.Context(), url, bus.NATSOptions{Name: t.Name(), Prefix: fmt.Sprintf("t%d", time.Now().UnixNano())}, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			return b
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			raw := tt.open(t)
			defer raw.Close()
			testBusAck(t, raw)
		})
	}
}

func testBusAck(t *testing.T, raw bus.Bus) {
	m := New()
	b := m.InstrumentBus(raw)
	topic := bus.InvokerTopic("invoker0")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub, err := b.Queue(ctx, topic, "invoker0", 0)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := sub.Subscribe(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	next := func(want string) *message.Message {
		t.Helper()
		select {
		case msg := <-msgs:
			if msg.UUID != want {
				t.Fatalf("delivered %s, want %s", msg.UUID, want)
			}
			return msg
		case <-time.After(10 * time.Second):
			t.Fatalf("%s was not delivered", want)
			return nil
		}
	}
	for _, id := range []string{"a", "b"} {
		if err := b.Publish(topic, bus.NewMessage(id, nil)); err != nil {
			t.Fatal(err)
		}
	}
	next("a").Ack()
	next("b").Nack()
	next("b").Ack() // the redelivery
	if err := b.Publish(topic, bus.NewMessage("c", nil)); err != nil {
		t.Fatal(err)
	}
	next("c") // handed over once b's ack is recorded
	if got := testutil.ToFloat64(m.busAck.redelivered.WithLabelValues("invoker")); got != 1 {
		t.Errorf("redeliveries = %v, want 1", got)
	}
	if got := histogramCount(t, m, "wisp_bus_ack_seconds", "ack"); got != 2 {
		t.Errorf("acks timed = %d, want 2", got)
	}
	if got := histogramCount(t, m, "wisp_bus_ack_seconds", "nack"); got != 1 {
		t.Errorf("nacks timed = %d, want 1", got)
	}
}

// histogramCount is the sample count of name{topic="invoker",result=result}.
func histogramCount(t *testing.T, m *Metrics, name, result string) uint64 {
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
			labels := map[string]string{}
			for _, l := range s.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["topic"] == "invoker" && labels["result"] == result {
				return s.GetHistogram().GetSampleCount()
			}
		}
	}
	return 0
}

// A NATS queue message whose ack wait expires (its consumer went away
// without acking) is delivered again: counted once as a redelivery, on
// receipt, though nobody nacked it.
func TestBusRedeliveryAfterAckWait(t *testing.T) {
	url := testenv.NATS(t)
	raw, err := bus.ConnectNATS(t.Context(), url, bus.NATSOptions{Name: t.Name(), Prefix: fmt.Sprintf("t%d", time.Now().UnixNano())}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	m := New()
	b := m.InstrumentBus(raw)
	topic := bus.TopicTriggers
	subscribe := func(ctx context.Context) <-chan *message.Message {
		t.Helper()
		sub, err := b.SharedQueue(ctx, topic, "triggers", time.Second)
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := sub.Subscribe(ctx, topic)
		if err != nil {
			t.Fatal(err)
		}
		return msgs
	}
	receive := func(msgs <-chan *message.Message) *message.Message {
		t.Helper()
		select {
		case msg := <-msgs:
			return msg
		case <-time.After(20 * time.Second):
			t.Fatal("nothing delivered")
			return nil
		}
	}
	if err := b.Publish(topic, bus.NewMessage("x", nil)); err != nil {
		t.Fatal(err)
	}
	gone, leave := context.WithCancel(context.Background())
	if msg := receive(subscribe(gone)); msg.UUID != "x" {
		t.Fatalf("delivered %s, want x", msg.UUID)
	}
	leave() // the consumer goes away holding x, unacked
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	msgs := subscribe(ctx)
	again := receive(msgs) // once x's ack wait expired
	if n, _ := bus.Deliveries(again); again.UUID != "x" || n != 2 {
		t.Fatalf("delivered %s (delivery %d), want x's second delivery", again.UUID, n)
	}
	again.Ack()
	if err := b.Publish(topic, bus.NewMessage("y", nil)); err != nil {
		t.Fatal(err)
	}
	receive(msgs).Ack()
	if got := testutil.ToFloat64(m.busAck.redelivered.WithLabelValues("triggers")); got != 1 {
		t.Errorf("redeliveries = %v, want 1 (x's expired ack wait)", got)
	}
}
