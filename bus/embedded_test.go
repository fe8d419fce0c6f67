package bus

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

func openEmbedded(t testing.TB, path string) *Embedded {
	t.Helper()
	b, err := OpenEmbedded(path, time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// take receives n messages from ch, acking those ack says to.
func take(t *testing.T, ch <-chan *message.Message, n int, ack func(*message.Message) bool) []string {
	t.Helper()
	var got []string
	timeout := time.After(10 * time.Second)
	for len(got) < n {
		select {
		case m, ok := <-ch:
			if !ok {
				t.Fatalf("subscription closed after %d of %d messages", len(got), n)
			}
			got = append(got, m.UUID)
			if ack(m) {
				m.Ack()
			} else {
				m.Nack()
			}
		case <-timeout:
			t.Fatalf("got %d of %d messages: %v", len(got), n, got)
		}
	}
	return got
}

func ackAll(*message.Message) bool { return true }

func TestEmbeddedQueueKeepsUnackedAcrossRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue.db")
	b := openEmbedded(t, path)
	topic := InvokerTopic("invoker0")
	for i := range 5 {
		if err := b.Publish(topic, NewMessage(fmt.Sprint("m", i), []byte("x"))); err != nil {
			t.Fatal(err)
		}
	}
	sub, _ := b.Queue(context.Background(), topic, "c", 0)
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := sub.Subscribe(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	// m0 and m1 are acked; m2 is delivered but its handler "dies" (the bus
	// closes before an ack): it and m3, m4 must come back.
	take(t, ch, 2, ackAll)
	select {
	case m := <-ch:
		if m.UUID != "m2" {
			t.Fatalf("third delivery = %s, want m2", m.UUID)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("m2 not delivered")
	}
	cancel()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	b = openEmbedded(t, path)
	defer b.Close()
	sub, _ = b.Queue(context.Background(), topic, "c", 0)
	ch, err = sub.Subscribe(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	got := take(t, ch, 3, ackAll)
	if fmt.Sprint(got) != "[m2 m3 m4]" {
		t.Fatalf("after restart got %v, want [m2 m3 m4] in order", got)
	}
	select {
	case m := <-ch:
		t.Fatalf("unexpected message %s after the redelivered ones", m.UUID)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestEmbeddedQueueAckedIsGoneAfterRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue.db")
	b := openEmbedded(t, path)
	sub, _ := b.Queue(context.Background(), TopicTriggers, "c", 0)
	ch, _ := sub.Subscribe(context.Background(), TopicTriggers)
	for i := range 3 {
		if err := b.Publish(TopicTriggers, NewMessage(fmt.Sprint("f", i), nil)); err != nil {
			t.Fatal(err)
		}
	}
	take(t, ch, 3, ackAll)
	// Close waits for the removals of acked messages.
	if err := b.Publish(TopicTriggers, NewMessage("f3", nil)); err != nil {
		t.Fatal(err)
	}
	take(t, ch, 1, func(*message.Message) bool { return false }) // nacked: stays
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = openEmbedded(t, path)
	defer b.Close()
	sub, _ = b.Queue(context.Background(), TopicTriggers, "c", 0)
	ch, _ = sub.Subscribe(context.Background(), TopicTriggers)
	if got := take(t, ch, 1, ackAll); got[0] != "f3" {
		t.Fatalf("after restart got %v, want only the nacked f3", got)
	}
}

func TestEmbeddedNackRedelivers(t *testing.T) {
	b := openEmbedded(t, filepath.Join(t.TempDir(), "queue.db"))
	defer b.Close()
	topic := InvokerTopic("i")
	sub, _ := b.Queue(context.Background(), topic, "c", 0)
	ch, _ := sub.Subscribe(context.Background(), topic)
	if err := b.Publish(topic, NewMessage("a", nil)); err != nil {
		t.Fatal(err)
	}
	tries := 0
	got := take(t, ch, 3, func(*message.Message) bool { tries++; return tries == 3 })
	if fmt.Sprint(got) != "[a a a]" {
		t.Fatalf("got %v, want a delivered three times", got)
	}
}

func TestEmbeddedDedupesQueuedIDs(t *testing.T) {
	b := openEmbedded(t, filepath.Join(t.TempDir(), "queue.db"))
	defer b.Close()
	topic := InvokerTopic("i")
	for _, id := range []string{"a", "b", "a", "a", "c"} {
		if err := b.Publish(topic, NewMessage(id, nil)); err != nil {
			t.Fatal(err)
		}
	}
	sub, _ := b.Queue(context.Background(), topic, "c", 0)
	ch, _ := sub.Subscribe(context.Background(), topic)
	if got := take(t, ch, 3, ackAll); fmt.Sprint(got) != "[a b c]" {
		t.Fatalf("got %v, want [a b c]", got)
	}
	select {
	case m := <-ch:
		t.Fatalf("duplicate %s delivered", m.UUID)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestEmbeddedCompletionsAreNotKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue.db")
	b := openEmbedded(t, path)
	topic := CompletionsTopic("controller0")
	if err := b.Publish(topic, NewMessage("done", nil)); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = openEmbedded(t, path)
	defer b.Close()
	sub, _ := b.Queue(context.Background(), topic, "c", 0)
	ch, _ := sub.Subscribe(context.Background(), topic)
	select {
	case m := <-ch:
		t.Fatalf("completion %s outlived the process", m.UUID)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestEmbeddedSpreadsOverSubscriptions(t *testing.T) {
	b := openEmbedded(t, filepath.Join(t.TempDir(), "queue.db"))
	defer b.Close()
	topic := InvokerTopic("i")
	sub, _ := b.Queue(context.Background(), topic, "c", 0)
	const workers, n = 4, 200
	var mu sync.Mutex
	var got []string
	var wg sync.WaitGroup
	release := make(chan struct{})
	for range workers {
		ch, err := sub.Subscribe(context.Background(), topic)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range ch {
				mu.Lock()
				got = append(got, m.UUID)
				full := len(got) == n
				mu.Unlock()
				m.Ack()
				if full {
					close(release)
				}
			}
		}()
	}
	var pubs sync.WaitGroup
	for i := range n {
		pubs.Add(1)
		go func() {
			defer pubs.Done()
			if err := b.Publish(topic, NewMessage(fmt.Sprintf("m%03d", i), nil)); err != nil {
				t.Error(err)
			}
		}()
	}
	pubs.Wait()
	select {
	case <-release:
	case <-time.After(10 * time.Second):
		mu.Lock()
		t.Fatalf("received %d of %d", len(got), n)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	sort.Strings(got)
	for i, id := range got {
		if want := fmt.Sprintf("m%03d", i); id != want {
			t.Fatalf("message %d = %s, want %s (lost or duplicated)", i, id, want)
		}
	}
}

func TestEmbeddedBroadcast(t *testing.T) {
	b := openEmbedded(t, filepath.Join(t.TempDir(), "queue.db"))
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	one, _ := b.Broadcast().Subscribe(ctx, TopicHealth)
	two, _ := b.Broadcast().Subscribe(ctx, TopicHealth)
	if err := b.Publish(TopicHealth, NewMessage("ping", nil)); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []<-chan *message.Message{one, two} {
		take(t, ch, 1, ackAll)
	}
}

// BenchmarkEmbeddedPublish measures a durable publish (fsync shared by the
// concurrent publishers) and its consumption.
func BenchmarkEmbeddedPublish(b *testing.B) {
	bus := openEmbedded(b, filepath.Join(b.TempDir(), "queue.db"))
	defer bus.Close()
	topic := InvokerTopic("i")
	sub, _ := bus.Queue(context.Background(), topic, "c", 0)
	ch, _ := sub.Subscribe(context.Background(), topic)
	go func() {
		for m := range ch {
			m.Ack()
		}
	}()
	var n int64
	var mu sync.Mutex
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			n++
			id := fmt.Sprint(n)
			mu.Unlock()
			if err := bus.Publish(topic, NewMessage(id, []byte(`{"activationId":"x"}`))); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// TestEmbeddedVolatileUntilKept: a message marked volatile is not in the
// file until the same id is published unmarked.
func TestEmbeddedVolatileUntilKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue.db")
	b := openEmbedded(t, path)
	topic := InvokerTopic("i")
	for _, id := range []string{"blocking", "timedout"} {
		m := NewMessage(id, nil)
		MarkVolatile(m)
		if err := b.Publish(topic, m); err != nil {
			t.Fatal(err)
		}
	}
	sub, _ := b.Queue(context.Background(), topic, "c", 0)
	ctx, cancel := context.WithCancel(context.Background())
	ch, _ := sub.Subscribe(ctx, topic)
	<-ch // "blocking" is being handled when the process dies
	// The caller of "timedout" stopped waiting: it is kept, once.
	if err := b.Publish(topic, NewMessage("timedout", nil)); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = openEmbedded(t, path)
	defer b.Close()
	sub, _ = b.Queue(context.Background(), topic, "c", 0)
	ch, _ = sub.Subscribe(context.Background(), topic)
	got := take(t, ch, 1, ackAll)
	if got[0] != "timedout" {
		t.Fatalf("after restart got %v, want only the kept timedout", got)
	}
	select {
	case m := <-ch:
		t.Fatalf("volatile message %s outlived the process", m.UUID)
	case <-time.After(50 * time.Millisecond):
	}
}
