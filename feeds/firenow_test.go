package feeds

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wispio/wisp/routing"
	"github.com/wispio/wisp/store"
)

// nowFirer is a NowFirer over fakeFirer whose keeps wait for release and
// fail while failing is not 0 (-1: always).
type nowFirer struct {
	*fakeFirer
	release chan struct{} // closed: keeps may go on

	mu      sync.Mutex
	failing int
	kept    []string // the activation ids kept, in the order kept
}

func (f *nowFirer) FireNow(ctx context.Context, req routing.FireRequest) (func(context.Context) error, error) {
	if _, err := f.Fire(ctx, req); err != nil {
		return nil, err
	}
	return func(ctx context.Context) error {
		select {
		case <-f.release:
		case <-ctx.Done():
			return ctx.Err()
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.failing != 0 {
			f.failing--
			return errors.New("disk full")
		}
		f.kept = append(f.kept, req.ActivationID)
		return nil
	}, nil
}

// TestFireNowKeepsTheEventUntilDurable: with a NowFirer the worker fires
// the next events while the first fires are not yet durable; each event
// stays in the outbox, and the cursor unsaved, until its keep succeeds
// (retried after a failure), in order.
func TestFireNowKeepsTheEventUntilDurable(t *testing.T) {
	st := openStore(t)
	h := newHarness(t, st)
	h.trigger("ns", "T")
	nf := &nowFirer{fakeFirer: h.firer, release: make(chan struct{}), failing: 2}
	if err := h.m.Start(context.Background(), nf, h.triggers); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.m.Close(context.Background()) })
	feed := h.create("ns", "/ns/T")
	for i := 1; i <= 3; i++ {
		if err := feed.sink.Deliver(context.Background(), event(i, fmt.Sprint("c", i))); err != nil {
			t.Fatal(err)
		}
	}
	h.waitFired("1", "2", "3") // none kept yet
	if n := h.count(store.FeedEvents); n != 3 {
		t.Errorf("%d events in the outbox while no fire is durable, want 3", n)
	}
	reg, _, err := store.GetDoc[record](context.Background(), st, SystemNamespace, store.Feeds, "ns/T")
	if err != nil {
		t.Fatal(err)
	}
	if reg.Cursor != "" {
		t.Errorf("cursor %q saved before the fires were durable", reg.Cursor)
	}
	read := h.mustCall("ns", map[string]any{"lifecycleEvent": "READ", "triggerName": "/ns/T"})
	if read["pending"] != float64(3) {
		t.Errorf("READ pending = %v, want 3", read["pending"])
	}
	close(nf.release)
	for deadline := time.Now().Add(10 * time.Second); h.count(store.FeedEvents) > 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d events left in the outbox after their keeps", h.count(store.FeedEvents))
		}
	}
	nf.mu.Lock()
	kept := len(nf.kept)
	nf.mu.Unlock()
	if kept != 3 {
		t.Errorf("%d fires kept, want 3", kept)
	}
	h.firer.mu.Lock()
	attempts := h.firer.attempts
	h.firer.mu.Unlock()
	if attempts != 3 {
		t.Errorf("%d fire attempts, want 3 (a failed keep is retried, not the fire)", attempts)
	}
	reg, _, err = store.GetDoc[record](context.Background(), st, SystemNamespace, store.Feeds, "ns/T")
	if err != nil {
		t.Fatal(err)
	}
	if reg.Cursor != "c3" {
		t.Errorf("saved cursor %q, want c3", reg.Cursor)
	}
}

// TestFireNowNotDurableAtStopFiresAgain: events whose fires never became
// durable stay in the outbox through a stop and fire again, under the
// same activation ids, at the next start.
func TestFireNowNotDurableAtStopFiresAgain(t *testing.T) {
	st := openStore(t)
	h := newHarness(t, st)
	h.trigger("ns", "T")
	nf := &nowFirer{fakeFirer: h.firer, release: make(chan struct{}), failing: -1}
	close(nf.release) // every keep fails
	if err := h.m.Start(context.Background(), nf, h.triggers); err != nil {
		t.Fatal(err)
	}
	feed := h.create("ns", "/ns/T")
	for i := 1; i <= 2; i++ {
		if err := feed.sink.Deliver(context.Background(), event(i, fmt.Sprint("c", i))); err != nil {
			t.Fatal(err)
		}
	}
	h.waitFired("1", "2")
	if err := h.m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := h.count(store.FeedEvents); n != 2 {
		t.Fatalf("%d events in the outbox after a stop with no fire durable, want 2", n)
	}
	h.firer.mu.Lock()
	first := append([]string(nil), h.firer.ids...)
	h.firer.mu.Unlock()

	h2 := newHarness(t, st)
	h2.start()
	h2.nextFeed()
	h2.waitFired("1", "2")
	h2.firer.mu.Lock()
	again := append([]string(nil), h2.firer.ids...)
	h2.firer.mu.Unlock()
	if len(again) != 2 || again[0] != first[0] || again[1] != first[1] {
		t.Errorf("fired again as %v, want the first ids %v", again, first)
	}
}
