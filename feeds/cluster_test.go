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

// shareOnNATS makes h's manager the feeds node node of a cluster whose
// leases are in the NATS bucket of prefix.
func shareOnNATS(t *testing.T, h *harness, prefix, node string, fw directForwarder) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	b, err := bus.ConnectNATS(ctx, testenv.NATS(t), bus.NATSOptions{Name: node, Prefix: prefix}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	leases, err := b.Leases(ctx, "FEED_LEASES", node, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	fw[node] = h.m
	h.m.Share(&Cluster{Leases: leases, Forward: fw, Scan: 200 * time.Millisecond})
}

// Two feeds nodes share one store: the registration runs on the node
// that created it only, the other answers its feed actions by forwarding
// them, and when the first stops renewing its lease the second takes the
// feed over from the newest cursor and fires the event left in the
// outbox under the activation id the first used.
func TestFeedsTakeOver(t *testing.T) {
	prefix := fmt.Sprintf("f%d", time.Now().UnixNano())
	st := openStore(t)
	fw := directForwarder{}
	a, b := newHarness(t, st), newHarness(t, st)
	shareOnNATS(t, a, prefix, "a", fw)
	shareOnNATS(t, b, prefix, "b", fw)
	a.trigger("ns", "T")
	a.start()
	feed := a.create("ns", "/ns/T")
	b.start()
	if b.m.lookup("ns/T") != nil {
		t.Fatal("node b runs the feed node a holds")
	}
	read := b.mustCall("ns", map[string]any{"lifecycleEvent": "READ", "triggerName": "/ns/T"})
	if read["status"] != StatusActive {
		t.Fatalf("READ forwarded to a: %v", read)
	}

	ctx := context.Background()
	if err := feed.sink.Deliver(ctx, event(1, "c1")); err != nil {
		t.Fatal(err)
	}
	a.waitFired("1")
	a.firer.mu.Lock()
	a.firer.failures, a.firer.err = -1, fmt.Errorf("bus down")
	a.firer.mu.Unlock()
	if err := feed.sink.Deliver(ctx, event(2, "c2")); err != nil {
		t.Fatal(err)
	}
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
	b.mustCall("ns", map[string]any{"lifecycleEvent": "DELETE", "triggerName": "/ns/T"})
	if n := b.count(store.Feeds); n != 0 {
		t.Errorf("%d registrations after DELETE", n)
	}
}
