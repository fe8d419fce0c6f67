package bus

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	bolt "go.etcd.io/bbolt"
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

// TestEmbeddedKeptOnlyWhileWaiting: a message marked kept writes the
// volatile message of its id to the file while that one waits or is being
// handled, and is dropped once it was acked (it ran: it must not run
// again); its marks are not stored.
func TestEmbeddedKeptOnlyWhileWaiting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue.db")
	b := openEmbedded(t, path)
	topic := InvokerTopic("i")
	for _, id := range []string{"handled", "waiting"} {
		m := NewMessage(id, []byte(id))
		MarkVolatile(m)
		if err := b.Publish(topic, m); err != nil {
			t.Fatal(err)
		}
	}
	sub, _ := b.Queue(context.Background(), topic, "c", 0)
	ctx, cancel := context.WithCancel(context.Background())
	ch, _ := sub.Subscribe(ctx, topic)
	first := <-ch
	if first.UUID != "handled" {
		t.Fatalf("first delivered %s, want handled", first.UUID)
	}
	first.Ack()
	for deadline := time.Now().Add(10 * time.Second); b.waiting(topic, "handled"); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the acked message is still held after 10s")
		}
	}
	for _, id := range []string{"handled", "waiting"} {
		m := NewMessage(id, []byte(id))
		MarkKept(m)
		if err := b.Publish(topic, m); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = openEmbedded(t, path)
	defer b.Close()
	sub, _ = b.Queue(context.Background(), topic, "c", 0)
	ch, _ = sub.Subscribe(context.Background(), topic)
	select {
	case m := <-ch:
		if m.UUID != "waiting" || string(m.Payload) != "waiting" {
			t.Fatalf("after restart got %s %q, want the kept waiting message", m.UUID, m.Payload)
		}
		if m.Metadata.Get(KeepHeader) != "" || m.Metadata.Get(VolatileHeader) != "" {
			t.Errorf("the stored message kept its marks: %v", m.Metadata)
		}
		m.Ack()
	case <-time.After(10 * time.Second):
		t.Fatal("the kept message was not delivered after a restart")
	}
	select {
	case m := <-ch:
		t.Fatalf("message %s came back after it was handled", m.UUID)
	case <-time.After(50 * time.Millisecond):
	}
}

// BenchmarkEmbeddedHandoff measures a blocking invocation's hop: a
// volatile message published to a queue whose subscription waits, until
// its consumer has it and acks it.
func BenchmarkEmbeddedHandoff(b *testing.B) {
	bus := openEmbedded(b, filepath.Join(b.TempDir(), "queue.db"))
	defer bus.Close()
	topic := InvokerTopic("i")
	sub, _ := bus.Queue(context.Background(), topic, "c", 0)
	ch, _ := sub.Subscribe(context.Background(), topic)
	got := make(chan struct{})
	go func() {
		for m := range ch {
			m.Ack()
			got <- struct{}{}
		}
	}()
	i := 0
	for b.Loop() {
		i++
		msg := NewMessage(fmt.Sprint(i), []byte(`{"activationId":"x"}`))
		MarkVolatile(msg)
		if err := bus.Publish(topic, msg); err != nil {
			b.Fatal(err)
		}
		<-got
	}
}

// TestEmbeddedGroupCommit: publishes that arrive while a commit of the
// queue file is under way share the next commit (one fsync), and each
// returns only once its message is in the file.
func TestEmbeddedGroupCommit(t *testing.T) {
	b := openEmbedded(t, filepath.Join(t.TempDir(), "queue.db"))
	defer b.Close()
	topic := InvokerTopic("i")
	before := b.commits.Commits()
	release, started, held := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		held <- b.commits.Update(func(*bolt.Tx) error {
			close(started)
			<-release
			return nil
		})
	}()
	<-started
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = b.Publish(topic, NewMessage(fmt.Sprint("m", i), []byte(`{}`))) })
	}
	for deadline := time.Now().Add(10 * time.Second); b.commits.Queued() < n; runtime.Gosched() {
		if time.Now().After(deadline) {
			close(release)
			t.Fatalf("%d of %d publishes queued for the next commit", b.commits.Queued(), n)
		}
	}
	close(release)
	wg.Wait()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("publish m%d: %v", i, err)
		}
	}
	stored := 0
	if err := b.db.View(func(tx *bolt.Tx) error {
		if bk := tx.Bucket([]byte(topic)); bk != nil {
			stored = bk.Stats().KeyN
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if stored != n {
		t.Errorf("%d messages in the file after their publishes returned, want %d", stored, n)
	}
	if got := b.commits.Commits() - before; got != 2 {
		t.Errorf("%d commits for one held write and %d publishes queued behind it, want 2", got, n)
	}
}

// waiting reports whether a message of id waits or is being handled in
// topic's queue.
func (b *Embedded) waiting(topic, id string) bool {
	q := b.queue(topic)
	q.mu.Lock()
	defer q.mu.Unlock()
	_, ok := q.ids[id]
	return ok
}
