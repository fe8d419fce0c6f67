package feeds

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wispio/wisp/store"
)

// gatedStore holds each outbox write until gate is closed, then fails it
// with fail, or writes it when fail is nil.
type gatedStore struct {
	store.Store
	gate chan struct{}
	fail error
}

func (g *gatedStore) Put(ctx context.Context, r store.Record) (string, error) {
	if r.Collection == store.FeedEvents {
		<-g.gate
		if g.fail != nil {
			return "", g.fail
		}
	}
	return g.Store.Put(ctx, r)
}

// TestDeliverFiresWhileTheEventIsWritten: a delivered event fires while
// its outbox write is under way, but Deliver (the source's cue to
// acknowledge) returns only once the event is written, and the event
// leaves the outbox, its cursor reaching the registration, only after
// that write: a removal before it would leave the event behind for good.
func TestDeliverFiresWhileTheEventIsWritten(t *testing.T) {
	h, st, _, delivered := deliverGated(t, nil)
	select {
	case err := <-delivered:
		t.Fatalf("Deliver returned (%v) before the event was written", err)
	default:
	}
	if reg := h.registration("ns/T"); reg.Cursor != "" {
		t.Errorf("cursor %q saved before the event was written", reg.Cursor)
	}
	close(st.gate)
	if err := <-delivered; err != nil {
		t.Fatal(err)
	}
	h.waitSettled("ns/T", "c1")
	if n := h.count(store.FeedEvents); n != 0 {
		t.Errorf("%d events left in the outbox after the fire, want 0", n)
	}
}

// TestDeliverWriteFailedKeepsNoCursor: when the outbox write of an event
// that already fired fails, Deliver says so (the source delivers it
// again) and the event's cursor never reaches the registration; the feed
// goes on with the next event.
func TestDeliverWriteFailedKeepsNoCursor(t *testing.T) {
	h, st, feed, delivered := deliverGated(t, errors.New("disk full"))
	close(st.gate)
	if err := <-delivered; err == nil {
		t.Fatal("Deliver succeeded although the event was not written")
	}
	h.waitSettled("ns/T", "")
	st.fail = nil // the gate is open: Put reads fail only after it
	if err := feed.sink.Deliver(context.Background(), event(2, "c2")); err != nil {
		t.Fatal(err)
	}
	h.waitFired("2")
	h.waitSettled("ns/T", "c2")
}

// deliverGated starts a feed of trigger ns/T on a gatedStore failing with
// fail and delivers event 1 (cursor c1) on it; it returns once the event
// fired, its write still held at the gate, and Deliver's outcome comes on
// delivered.
func deliverGated(t *testing.T, fail error) (h *harness, st *gatedStore, feed *fakeFeed, delivered chan error) {
	t.Helper()
	st = &gatedStore{Store: openStore(t), gate: make(chan struct{}), fail: fail}
	h = newHarness(t, st)
	h.trigger("ns", "T")
	h.start()
	feed = h.create("ns", "/ns/T")
	delivered = make(chan error, 1)
	go func() { delivered <- feed.sink.Deliver(context.Background(), event(1, "c1")) }()
	h.waitFired("1")
	return h, st, feed, delivered
}

func (h *harness) registration(key string) Registration {
	h.t.Helper()
	reg, _, err := store.GetDoc[record](context.Background(), h.store, SystemNamespace, store.Feeds, key)
	if err != nil {
		h.t.Fatal(err)
	}
	return reg.Registration
}

// waitSettled waits until no event of the registration at key is pending
// (as READ counts them) and then checks its saved cursor.
func (h *harness) waitSettled(key, cursor string) {
	h.t.Helper()
	e := h.m.lookup(key)
	if e == nil {
		h.t.Fatalf("no registration %s", key)
	}
	pending := func() int {
		e.mu.Lock()
		defer e.mu.Unlock()
		return len(e.queue) + e.inflight
	}
	for deadline := time.Now().Add(10 * time.Second); pending() > 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			h.t.Fatalf("%d events of %s still pending", pending(), key)
		}
	}
	if got := h.registration(key).Cursor; got != cursor {
		h.t.Errorf("saved cursor %q, want %q", got, cursor)
	}
}
