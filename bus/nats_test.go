package bus_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/wispio/wisp/bus"
	"github.com/wispio/wisp/internal/testenv"
)

// connect returns a bus on the suite's nats-server with a prefix of its own.
func connect(t *testing.T, prefix string) *bus.NATS {
	t.Helper()
	url := testenv.NATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := bus.ConnectNATS(ctx, url, bus.NATSOptions{Name: t.Name(), Prefix: prefix}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// uniquePrefix keeps a test's streams apart from every other run's.
func uniquePrefix() string {
	return fmt.Sprintf("t%d", time.Now().UnixNano())
}

func publish(t *testing.T, b bus.Bus, topic string, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if err := b.Publish(topic, bus.NewMessage(id, []byte(`{"id":"`+id+`"}`))); err != nil {
			t.Fatalf("publish %s: %v", id, err)
		}
	}
}

// receive takes n messages from ch, acking those ack says to.
func receive(t *testing.T, ch <-chan *message.Message, n int, ack bool) []string {
	t.Helper()
	var got []string
	timeout := time.After(10 * time.Second)
	for len(got) < n {
		select {
		case m := <-ch:
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

func TestQueueDeliversOnceAndDeduplicates(t *testing.T) {
	b := connect(t, uniquePrefix())
	ctx := t.Context()
	topic := bus.InvokerTopic("i1")
	sub, err := b.Queue(ctx, topic, "invoker-i1", 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// Two subscriptions of one consumer share the messages.
	ch1, err := sub.Subscribe(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	ch2, err := sub.Subscribe(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	publish(t, b, topic, "a", "b", "c", "a") // "a" again: a duplicate
	merged := make(chan *message.Message)
	for _, ch := range []<-chan *message.Message{ch1, ch2} {
		go func() {
			for m := range ch {
				merged <- m
			}
		}()
	}
	got := receive(t, merged, 3, true)
	slices.Sort(got)
	if !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("got %v, want a b c once each", got)
	}
	select {
	case m := <-merged:
		t.Fatalf("unexpected message %s (a duplicate delivered?)", m.UUID)
	case <-time.After(300 * time.Millisecond):
	}
}

// A consumer re-created under its name (the process restarted) gets the
// messages its previous life left unacked at once, not after the ack wait.
func TestQueueRestartRedeliversUnacked(t *testing.T) {
	b := connect(t, uniquePrefix())
	topic := bus.InvokerTopic("i2")
	first, cancel := context.WithCancel(t.Context())
	sub, err := b.Queue(first, topic, "invoker-i2", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := sub.Subscribe(first, topic)
	if err != nil {
		t.Fatal(err)
	}
	publish(t, b, topic, "x", "y")
	receive(t, ch, 1, false) // taken, never acked
	cancel()
	_ = sub.Close()

	sub2, err := b.Queue(t.Context(), topic, "invoker-i2", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ch2, err := sub2.Subscribe(t.Context(), topic)
	if err != nil {
		t.Fatal(err)
	}
	got := receive(t, ch2, 2, true)
	slices.Sort(got)
	if !slices.Equal(got, []string{"x", "y"}) {
		t.Fatalf("after restart got %v, want x y", got)
	}
}

// Reclaim takes a dead consumer's messages, delivered-unacked and queued,
// and leaves none behind.
func TestReclaim(t *testing.T) {
	b := connect(t, uniquePrefix())
	topic := bus.InvokerTopic("dead")
	ctx, cancel := context.WithCancel(t.Context())
	sub, err := b.Queue(ctx, topic, "invoker-dead", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := sub.Subscribe(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	publish(t, b, topic, "1", "2", "3", "4", "5")
	receive(t, ch, 1, false) // in flight when the invoker died
	cancel()

	var mu sync.Mutex
	var got []string
	n, err := b.Reclaim(t.Context(), topic, "invoker-dead", func(m *message.Message) error {
		mu.Lock()
		defer mu.Unlock()
		if m.Metadata.Get(bus.SeqHeader) == "" {
			t.Errorf("message %s without its stream sequence", m.UUID)
		}
		got = append(got, m.UUID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if n != 5 || !slices.Equal(got, []string{"1", "2", "3", "4", "5"}) {
		t.Fatalf("reclaimed %d: %v, want 1..5", n, got)
	}
	// Nothing is left: a second reclaim finds no message.
	n, err = b.Reclaim(t.Context(), topic, "invoker-dead", func(m *message.Message) error {
		t.Errorf("reclaimed %s twice", m.UUID)
		return nil
	})
	if err != nil || n != 0 {
		t.Fatalf("second reclaim: %d, %v", n, err)
	}
}

func TestBroadcastReachesEverySubscriber(t *testing.T) {
	b := connect(t, uniquePrefix())
	ctx := t.Context()
	var chans []<-chan *message.Message
	for range 2 {
		ch, err := b.Broadcast().Subscribe(ctx, bus.TopicHealth)
		if err != nil {
			t.Fatal(err)
		}
		chans = append(chans, ch)
	}
	publish(t, b, bus.TopicHealth, "p1", "p2")
	for i, ch := range chans {
		got := receive(t, ch, 2, true)
		if strings.Join(got, ",") != "p1,p2" {
			t.Fatalf("subscriber %d got %v, want p1,p2 in order", i, got)
		}
	}
}

func TestPrefixIsChecked(t *testing.T) {
	_, err := bus.ConnectNATS(t.Context(), "nats://127.0.0.1:1", bus.NATSOptions{Prefix: "a.b"}, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "prefix") {
		t.Fatalf("err = %v, want one naming the prefix", err)
	}
}

// TestNATSURLCredentialsAreRedacted: a bus URL's user information never
// appears in ConnectNATS's errors or logs, however the connection fails.
func TestNATSURLCredentialsAreRedacted(t *testing.T) {
	for _, url := range []string{
		"nats://wispuser:hunter2pw@127.0.0.1:1",   // nothing listens
		"nats://hunter2pw@127.0.0.1:1",            // a token as user
		"nats://wispuser:hunter2pw@host:notaport", // does not parse
	} {
		var logs strings.Builder
		_, err := bus.ConnectNATS(t.Context(), url, bus.NATSOptions{}, slog.New(slog.NewTextHandler(&logs, nil)))
		if err == nil {
			t.Fatalf("ConnectNATS(%s) connected", url)
		}
		if strings.Contains(err.Error(), "hunter2pw") || strings.Contains(logs.String(), "hunter2pw") {
			t.Errorf("ConnectNATS error %q / logs %q show the credentials", err, logs.String())
		}
		if !strings.Contains(err.Error(), "xxxxx@") {
			t.Errorf("ConnectNATS error %q does not name the (redacted) server", err)
		}
	}
}
