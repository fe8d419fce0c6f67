package feeds

import (
	"context"
	"testing"
	"time"

	"github.com/wispio/wisp/store/bolt"
)

// BenchmarkDeliverFire measures one event from a provider's Sink.Deliver
// to the Firer's Fire call, one at a time, with a fake provider and firer:
// the Manager's own share of feed → action latency (the outbox write, the
// hand-off to the trigger's worker). "fsync" opens the store as the server
// does; "nosync" shows how much of it is the disk.
func BenchmarkDeliverFire(b *testing.B) {
	for _, c := range []struct {
		name string
		opts bolt.Options
	}{{"fsync", bolt.Options{}}, {"nosync", bolt.Options{NoSync: true}}} {
		b.Run(c.name, func(b *testing.B) {
			h := newHarness(b, openStoreWith(b, c.opts))
			h.trigger("ns", "T")
			h.start()
			feed := h.create("ns", "/_/T")
			ctx := context.Background()
			ev := event(1, "")
			for b.Loop() {
				if err := feed.sink.Deliver(ctx, ev); err != nil {
					b.Fatal(err)
				}
				select {
				case <-h.firer.notify:
				case <-time.After(10 * time.Second):
					b.Fatal("the event was not fired")
				}
			}
		})
	}
}
