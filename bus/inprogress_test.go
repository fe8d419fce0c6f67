package bus_test

import (
	"context"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/wispio/wisp/bus"
	"github.com/wispio/wisp/bus/bustest"
)

// A NATS queue message whose handler keeps saying InProgress stays with it
// past many ack waits, and its late ack is taken; one whose handler stops
// (its process died) goes to another subscription an ack wait later.
func TestNATSInProgressKeepsAMessage(t *testing.T) {
	b := connect(t, uniquePrefix())
	topic := bus.TopicCompositions
	const ackWait = time.Second
	subscribe := func(ctx context.Context) <-chan *message.Message {
		t.Helper()
		sub, err := b.SharedQueue(ctx, topic, "compositions", ackWait)
		if err != nil {
			t.Fatal(err)
		}
		ch, err := sub.Subscribe(ctx, topic)
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	receive := func(ch <-chan *message.Message) *message.Message {
		t.Helper()
		select {
		case m := <-ch:
			return m
		case <-time.After(10 * time.Second):
			t.Fatal("nothing delivered")
			return nil
		}
	}
	keeperCtx, keeperGone := context.WithCancel(t.Context())
	keeper := subscribe(keeperCtx)
	bustest.Publish(t, b, topic, "kept", "dropped")
	kept := receive(keeper)
	other := subscribe(t.Context())
	dropped := receive(other) // the second message goes to the other subscription; held, never acked
	if kept.UUID != "kept" || dropped.UUID != "dropped" {
		t.Fatalf("delivered %s and %s, want kept and dropped", kept.UUID, dropped.UUID)
	}
	// For four ack waits the keeper says it is at work on kept, and the
	// other subscription (its handler stopped) says nothing on dropped.
	third := subscribe(t.Context())
	tick := time.NewTicker(ackWait / 4)
	defer tick.Stop()
	until := time.After(4 * ackWait)
	var again []string
	for waiting := true; waiting; {
		select {
		case <-tick.C:
			if err := b.InProgress(kept); err != nil {
				t.Fatal(err)
			}
		case m := <-third:
			again = append(again, m.UUID)
			m.Ack()
		case <-until:
			waiting = false
		}
	}
	if len(again) != 1 || again[0] != "dropped" {
		t.Fatalf("delivered again %v, want only dropped (its handler went quiet)", again)
	}
	kept.Ack() // four ack waits late
	keeperGone()
	// Acked, kept does not come back once its ack wait would have passed.
	select {
	case m := <-third:
		t.Fatalf("delivered %s again after its late ack", m.UUID)
	case <-time.After(3 * ackWait):
	}
	bustest.Publish(t, b, topic, "next")
	if m := receive(third); m.UUID != "next" {
		t.Fatalf("delivered %s, want next: the late ack of kept was lost", m.UUID)
	} else {
		m.Ack()
	}
	if err := b.InProgress(message.NewMessage("x", nil)); err == nil {
		t.Error("InProgress of a message that came from no queue succeeded")
	}
}
