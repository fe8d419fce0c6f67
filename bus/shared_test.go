package bus

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// On the embedded bus a shared queue is the process's queue: what one
// subscription leaves unacked comes back, and what it acks is gone at
// the next start.
func TestEmbeddedSharedQueue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue.db")
	b := openEmbedded(t, path)
	var shared Bus = b
	sub, err := shared.SharedQueue(t.Context(), TopicTriggers, TopicTriggers, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := sub.Subscribe(t.Context(), TopicTriggers)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"f1", "f2"} {
		if err := b.Publish(TopicTriggers, NewMessage(id, nil)); err != nil {
			t.Fatal(err)
		}
	}
	nacked := false // f1's first delivery is nacked, to come back
	got := take(t, ch, 3, func(m *message.Message) bool {
		if m.UUID == "f1" && !nacked {
			nacked = true
			return false
		}
		return true
	})
	if n := strings.Count(strings.Join(got, ","), "f1"); n != 2 {
		t.Fatalf("deliveries %v, want f1 twice (nacked once) and f2", got)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = openEmbedded(t, path)
	defer b.Close()
	if _, err := b.SharedQueue(t.Context(), TopicHealth, TopicHealth, time.Second); err == nil {
		t.Fatal("a shared queue of a broadcast topic was accepted")
	}
	sub, err = b.SharedQueue(t.Context(), TopicTriggers, TopicTriggers, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ch, err = sub.Subscribe(t.Context(), TopicTriggers)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-ch:
		t.Fatalf("acked message %s delivered again after a restart", m.UUID)
	case <-time.After(100 * time.Millisecond):
	}
}

// Reclaim on the embedded bus hands over nothing and takes nothing away:
// the queue's one process keeps its messages.
func TestEmbeddedReclaimNothing(t *testing.T) {
	b := openEmbedded(t, filepath.Join(t.TempDir(), "queue.db"))
	defer b.Close()
	topic := InvokerTopic("invoker0")
	if err := b.Publish(topic, NewMessage("a1", nil)); err != nil {
		t.Fatal(err)
	}
	var r Bus = b
	n, err := r.Reclaim(t.Context(), topic, "invoker-invoker0", func(m *message.Message) error {
		t.Errorf("reclaimed %s", m.UUID)
		return nil
	})
	if n != 0 || err != nil {
		t.Fatalf("Reclaim = %d, %v; want 0, nil", n, err)
	}
	sub, err := b.Queue(t.Context(), topic, "invoker-invoker0", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := sub.Subscribe(t.Context(), topic)
	if err != nil {
		t.Fatal(err)
	}
	if got := take(t, ch, 1, ackAll); got[0] != "a1" {
		t.Fatalf("after Reclaim the queue delivered %v, want a1", got)
	}
}
