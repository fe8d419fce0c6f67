package feeds

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/wispio/wisp/actions/builtin"
	"github.com/wispio/wisp/bus"
	"github.com/wispio/wisp/internal/testenv"
	"github.com/wispio/wisp/store"
)

// directForwarder hands a forwarded feed action to the named manager in
// this process (the server sends it over NATS).
type directForwarder map[string]*Manager

func (d directForwarder) Forward(ctx context.Context, node, handler string, call builtin.Call) (json.RawMessage, error) {
	m, ok := d[node]
	if !ok {
		return nil, fmt.Errorf("no node %s", node)
	}
	return m.ServeForwarded(ctx, handler, call)
}

// leaveInOutbox delivers event 1 (cursor c1) to feed and waits for h to
// fire it, then makes h's firer fail from then on and delivers event 2
// (c2), which stays in the outbox.
func leaveInOutbox(t *testing.T, h *harness, feed *fakeFeed) {
	t.Helper()
	ctx := context.Background()
	if err := feed.sink.Deliver(ctx, event(1, "c1")); err != nil {
		t.Fatal(err)
	}
	h.waitFired("1")
	h.firer.mu.Lock()
	h.firer.failures, h.firer.err = -1, fmt.Errorf("bus down")
	h.firer.mu.Unlock()
	if err := feed.sink.Deliver(ctx, event(2, "c2")); err != nil {
		t.Fatal(err)
	}
}

// shareOnNATS makes h's manager the feeds node node of a cluster whose
// leases are in the NATS bucket of prefix, held for a second.
func shareOnNATS(t *testing.T, h *harness, prefix, node string, fw directForwarder) *bus.Leases {
	t.Helper()
	return shareOnNATSFor(t, h, prefix, node, fw, time.Second)
}

// shareOnNATSFor is shareOnNATS with leases held for ttl.
func shareOnNATSFor(t *testing.T, h *harness, prefix, node string, fw directForwarder, ttl time.Duration) *bus.Leases {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	b, err := bus.ConnectNATS(ctx, testenv.NATS(t), bus.NATSOptions{Name: node, Prefix: prefix}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	leases, err := b.Leases(ctx, "FEED_LEASES", node, ttl)
	if err != nil {
		t.Fatal(err)
	}
	fw[node] = h.m
	h.m.Share(&Cluster{Leases: leases, Forward: fw, Scan: 200 * time.Millisecond})
	return leases
}

// Two feeds nodes share one store: the registration runs on the node
// that created it only, the other answers its feed actions by forwarding
// them, and when the first stops renewing its lease the second takes the
// feed over from the newest cursor and fires the event left in the
// outbox under the activation id the first used. (ns/T1 prefers node a,
// so a keeps it while b is live: PreferredNode.)
func TestFeedsTakeOver(t *testing.T) {
	prefix := fmt.Sprintf("f%d", time.Now().UnixNano())
	st := openStore(t)
	fw := directForwarder{}
	a, b := newHarness(t, st), newHarness(t, st)
	shareOnNATS(t, a, prefix, "a", fw)
	shareOnNATS(t, b, prefix, "b", fw)
	a.trigger("ns", "T1")
	a.start()
	feed := a.create("ns", "/ns/T1")
	b.start()
	if b.m.lookup("ns/T1") != nil {
		t.Fatal("node b runs the feed node a holds")
	}
	read := b.mustCall("ns", map[string]any{"lifecycleEvent": "READ", "triggerName": "/ns/T1"})
	if read["status"] != StatusActive {
		t.Fatalf("READ forwarded to a: %v", read)
	}

	ctx := context.Background()
	leaveInOutbox(t, a, feed)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		a.firer.mu.Lock()
		tried := len(a.firer.ids)
		a.firer.mu.Unlock()
		if tried >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a never tried to fire event 2")
		}
	}
	// a dies: it fires and renews nothing more.
	_ = a.m.Close(ctx)

	taken := b.nextFeed()
	if taken.reg.Cursor != "c2" {
		t.Errorf("b resumed from cursor %q, want c2 (the newest delivered)", taken.reg.Cursor)
	}
	b.waitFired("2")
	a.firer.mu.Lock()
	attempted := slices.Clone(a.firer.ids)
	a.firer.mu.Unlock()
	b.firer.mu.Lock()
	refired := b.firer.ids[0]
	b.firer.mu.Unlock()
	if len(attempted) < 2 || attempted[len(attempted)-1] != refired {
		t.Errorf("b fired event 2 as %s, a tried %v: want the same activation id", refired, attempted)
	}
	if err := taken.sink.Deliver(ctx, event(3, "c3")); err != nil {
		t.Fatal(err)
	}
	b.waitFired("3")
	// DELETE on b releases the lease; CREATE again works anywhere.
	b.mustCall("ns", map[string]any{"lifecycleEvent": "DELETE", "triggerName": "/ns/T1"})
	if n := b.count(store.Feeds); n != 0 {
		t.Errorf("%d registrations after DELETE", n)
	}
}

// Registrations created while node a runs alone spread once b is live:
// a hands b the ones that prefer b (PreferredNode), b takes them, and
// each runs on exactly one node.
func TestFeedsSpread(t *testing.T) {
	prefix := fmt.Sprintf("s%d", time.Now().UnixNano())
	st := openStore(t)
	fw := directForwarder{}
	a, b := newHarness(t, st), newHarness(t, st)
	shareOnNATS(t, a, prefix, "a", fw)
	shareOnNATS(t, b, prefix, "b", fw)
	a.start()
	var keys []string
	for i := range 6 {
		name := fmt.Sprintf("T%d", i)
		a.trigger("ns", name)
		a.create("ns", "/ns/"+name)
		keys = append(keys, "ns/"+name)
	}
	b.start()
	runs := func() (onA, onB []string, settled bool) {
		settled = true
		for _, key := range keys {
			ra, rb := a.m.lookup(key) != nil, b.m.lookup(key) != nil
			if ra {
				onA = append(onA, key)
			}
			if rb {
				onB = append(onB, key)
			}
			want := PreferredNode(key, []string{"a", "b"})
			settled = settled && ra == (want == "a") && rb == (want == "b")
		}
		return onA, onB, settled
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		onA, onB, settled := runs()
		if settled {
			if len(onA) == 0 || len(onB) == 0 {
				t.Fatalf("a runs %v, b runs %v: want both some", onA, onB)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never spread: a runs %v, b runs %v", onA, onB)
		}
	}
}

// A feeds node that stops cleanly hands its registrations over at once:
// it leaves the live nodes and releases its leases, so the other node
// takes the feed (from the stored cursor, with the event left in the
// outbox) at its next scan. The leases here last a minute: without the
// hand-over b would wait that long for a's to expire.
func TestFeedsHandOverOnStop(t *testing.T) {
	prefix := fmt.Sprintf("h%d", time.Now().UnixNano())
	st := openStore(t)
	fw := directForwarder{}
	a, b := newHarness(t, st), newHarness(t, st)
	la := shareOnNATSFor(t, a, prefix, "a", fw, time.Minute)
	lb := shareOnNATSFor(t, b, prefix, "b", fw, time.Minute)
	a.trigger("ns", "T1") // ns/T1 prefers a (TestFeedsTakeOver)
	a.start()
	feed := a.create("ns", "/ns/T1")
	b.start()
	ctx := context.Background()
	leaveInOutbox(t, a, feed)
	if holder, err := la.Holder(ctx, "ns/T1"); err != nil || holder != "a" {
		t.Fatalf("before the stop the lease is held by %q (%v), want a", holder, err)
	}

	if err := a.m.Close(ctx); err != nil {
		t.Fatalf("close a: %v", err)
	}
	live, err := lb.Live(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(live, "a") {
		t.Errorf("live nodes after a stopped: %v, want a gone", live)
	}
	if holder, err := lb.Holder(ctx, "ns/T1"); err != nil || holder == "a" {
		t.Errorf("after a stopped the lease is held by %q (%v), want it released", holder, err)
	}
	taken := b.nextFeed() // within 10 s, far less than the lease's minute
	if taken.reg.Cursor != "c2" {
		t.Errorf("b resumed from cursor %q, want c2", taken.reg.Cursor)
	}
	b.waitFired("2")
}
