package bus

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestEmbeddedNotBefore checks that a message marked not before a time is
// held back until then (a later message without the mark overtakes it),
// and that it stays in the file across a restart.
func TestEmbeddedNotBefore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue.db")
	b := openEmbedded(t, path)
	later := NewMessage("later", nil)
	due := time.Now().Add(300 * time.Millisecond)
	SetNotBefore(later, due)
	if err := b.Publish(TopicDeliveries, later); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(TopicDeliveries, NewMessage("now", nil)); err != nil {
		t.Fatal(err)
	}
	// The same id again while it is held is stored once.
	again := NewMessage("later", nil)
	SetNotBefore(again, due)
	if err := b.Publish(TopicDeliveries, again); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub, err := b.Queue(ctx, TopicDeliveries, "c", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := sub.Subscribe(ctx, TopicDeliveries)
	if err != nil {
		t.Fatal(err)
	}
	got := take(t, ch, 1, ackAll)
	if got[0] != "now" {
		t.Fatalf("first delivery %v, want the unmarked message first", got)
	}
	// Closed while the marked one is held: it must come back after a
	// restart, when due.
	cancel()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = openEmbedded(t, path)
	defer b.Close()
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	sub, err = b.Queue(ctx2, TopicDeliveries, "c", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ch, err = sub.Subscribe(ctx2, TopicDeliveries)
	if err != nil {
		t.Fatal(err)
	}
	got = take(t, ch, 1, ackAll)
	if got[0] != "later" {
		t.Fatalf("after the restart got %v, want the held message", got)
	}
	if now := time.Now(); now.Before(due) {
		t.Fatalf("delivered at %v, before its time %v", now, due)
	}
	select {
	case m := <-ch:
		t.Fatalf("unexpected second delivery %s", m.UUID)
	default:
	}
}
