// Package bustest is the conformance suite of bus.Bus, in the manner of
// watermill's pubsub tests: every implementation (the embedded bus, NATS
// JetStream) runs Run, so that the rest of Wisp can rely on the same
// queue and broadcast semantics from either: a queued message reaches one
// subscription, once per id, in order, stays until acked, comes back after
// a nack or a restart, and is gone after an ack; a broadcast reaches every
// subscription (in no promised order).
package bustest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/wispio/wisp/bus"
)

// Opener opens a fresh bus for one test. restart closes it and opens it
// again on the same state, as a process that died and came back would.
type Opener func(t *testing.T) (b bus.Bus, restart func() bus.Bus)

// Run runs every case against the buses open makes.
func Run(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name string
		run  func(*testing.T, Opener)
	}{
		{"QueueInOrder", queueInOrder},
		{"QueueSpreadsAndDeduplicates", queueSpreadsAndDeduplicates},
		{"NackRedelivers", nackRedelivers},
		{"RestartRedeliversUnacked", restartRedeliversUnacked},
		{"AckedIsGoneAfterRestart", ackedIsGoneAfterRestart},
		{"SubscriptionEndsWithContext", subscriptionEndsWithContext},
		{"BroadcastReachesEverySubscriber", broadcastReachesEverySubscriber},
		{"MetadataTravels", metadataTravels},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open) })
	}
}

const wait = 10 * time.Second

// Publish publishes messages with the given ids (their UUIDs and ids).
func Publish(t *testing.T, b bus.Bus, topic string, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if err := b.Publish(topic, bus.NewMessage(id, []byte(`{"id":"`+id+`"}`))); err != nil {
			t.Fatalf("publish %s: %v", id, err)
		}
	}
}

// Receive takes n messages from ch, acking each when ack is true.
func Receive(t *testing.T, ch <-chan *message.Message, n int, ack bool) []string {
	t.Helper()
	var got []string
	timeout := time.After(wait)
	for len(got) < n {
		select {
		case m, ok := <-ch:
			if !ok {
				t.Fatalf("subscription closed after %v, want %d messages", got, n)
			}
			got = append(got, m.UUID)
			if ack {
				m.Ack()
			}
		case <-timeout:
			t.Fatalf("received %v, want %d messages", got, n)
		}
	}
	return got
}

// NoMore fails when ch delivers a message within a short while.
func NoMore(t *testing.T, ch <-chan *message.Message) {
	t.Helper()
	select {
	case m, ok := <-ch:
		if ok {
			t.Fatalf("unexpected message %s", m.UUID)
		}
	case <-time.After(300 * time.Millisecond):
	}
}

func subscribe(t *testing.T, ctx context.Context, b bus.Bus, topic, consumer string) <-chan *message.Message {
	t.Helper()
	sub, err := b.Queue(ctx, topic, consumer, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := sub.Subscribe(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func queueInOrder(t *testing.T, open Opener) {
	b, _ := open(t)
	topic := bus.InvokerTopic("order")
	ch := subscribe(t, t.Context(), b, topic, "invoker-order")
	ids := []string{"m1", "m2", "m3", "m4", "m5", "m6"}
	Publish(t, b, topic, ids...)
	if got := Receive(t, ch, len(ids), true); !slices.Equal(got, ids) {
		t.Fatalf("one subscription got %v, want %v in order", got, ids)
	}
}

func queueSpreadsAndDeduplicates(t *testing.T, open Opener) {
	b, _ := open(t)
	ctx := t.Context()
	topic := bus.InvokerTopic("spread")
	sub, err := b.Queue(ctx, topic, "invoker-spread", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	merged := make(chan *message.Message)
	for range 2 {
		ch, err := sub.Subscribe(ctx, topic)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for m := range ch {
				select {
				case merged <- m:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	Publish(t, b, topic, "a", "b", "c", "a") // "a" again, while queued: stored once
	got := Receive(t, merged, 3, true)
	slices.Sort(got)
	if !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("got %v, want a b c once each", got)
	}
	NoMore(t, merged)
}

func nackRedelivers(t *testing.T, open Opener) {
	b, _ := open(t)
	topic := bus.InvokerTopic("nack")
	ch := subscribe(t, t.Context(), b, topic, "invoker-nack")
	Publish(t, b, topic, "n")
	for i := range 3 {
		select {
		case m := <-ch:
			if m.UUID != "n" {
				t.Fatalf("delivery %d is %s, want n", i, m.UUID)
			}
			if i < 2 {
				m.Nack()
			} else {
				m.Ack()
			}
		case <-time.After(wait):
			t.Fatalf("a nacked message was not delivered again (delivery %d)", i)
		}
	}
	NoMore(t, ch)
}

func restartRedeliversUnacked(t *testing.T, open Opener) {
	b, restart := open(t)
	topic := bus.InvokerTopic("restart")
	ctx, cancel := context.WithCancel(t.Context())
	ch := subscribe(t, ctx, b, topic, "invoker-restart")
	Publish(t, b, topic, "x", "y", "z")
	Receive(t, ch, 1, true)  // x: done
	Receive(t, ch, 1, false) // y: taken, never acked (the process dies)
	cancel()
	b = restart()
	ch = subscribe(t, t.Context(), b, topic, "invoker-restart")
	got := Receive(t, ch, 2, true)
	slices.Sort(got)
	if !slices.Equal(got, []string{"y", "z"}) {
		t.Fatalf("after a restart got %v, want y and z (x was acked)", got)
	}
	NoMore(t, ch)
}

func ackedIsGoneAfterRestart(t *testing.T, open Opener) {
	b, restart := open(t)
	ctx, cancel := context.WithCancel(t.Context())
	ch := subscribe(t, ctx, b, bus.TopicTriggers, "triggers")
	Publish(t, b, bus.TopicTriggers, "f1", "f2")
	Receive(t, ch, 2, true)
	cancel()
	b = restart()
	ch = subscribe(t, t.Context(), b, bus.TopicTriggers, "triggers")
	NoMore(t, ch)
}

func subscriptionEndsWithContext(t *testing.T, open Opener) {
	b, _ := open(t)
	ctx, cancel := context.WithCancel(t.Context())
	ch := subscribe(t, ctx, b, bus.InvokerTopic("ctx"), "invoker-ctx")
	cancel()
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("a message on an idle queue")
		}
	case <-time.After(wait):
		t.Fatal("the subscription did not end with its context")
	}
}

func broadcastReachesEverySubscriber(t *testing.T, open Opener) {
	b, _ := open(t)
	var chans []<-chan *message.Message
	for range 2 {
		ch, err := b.Broadcast().Subscribe(t.Context(), bus.TopicHealth)
		if err != nil {
			t.Fatal(err)
		}
		chans = append(chans, ch)
	}
	Publish(t, b, bus.TopicHealth, "p1", "p2")
	for i, ch := range chans {
		// Each gets each; the order is not promised (watermill's GoChannel
		// sends to each subscriber on goroutines of its own).
		got := Receive(t, ch, 2, true)
		slices.Sort(got)
		if strings.Join(got, ",") != "p1,p2" {
			t.Fatalf("subscriber %d got %v, want p1 and p2", i, got)
		}
	}
}

// metadataTravels checks that a message's metadata (the trace context
// routing and the invoker carry in it) reaches the consumer, also after a
// restart.
func metadataTravels(t *testing.T, open Opener) {
	b, restart := open(t)
	topic := bus.InvokerTopic("metadata")
	const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	for _, id := range []string{"m1", "m2"} {
		m := bus.NewMessage(id, []byte(`{}`))
		m.Metadata.Set("traceparent", traceparent)
		if err := b.Publish(topic, m); err != nil {
			t.Fatalf("publish %s: %v", id, err)
		}
	}
	take := func(ch <-chan *message.Message) {
		t.Helper()
		select {
		case m := <-ch:
			if got := m.Metadata.Get("traceparent"); got != traceparent {
				t.Fatalf("message %s has traceparent %q, want %q", m.UUID, got, traceparent)
			}
			m.Ack()
		case <-time.After(wait):
			t.Fatal("no message")
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	take(subscribe(t, ctx, b, topic, "invoker-metadata"))
	cancel()
	b = restart()
	take(subscribe(t, t.Context(), b, topic, "invoker-metadata"))
}
