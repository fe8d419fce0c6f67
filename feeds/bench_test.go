package feeds

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
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

// BenchmarkDeliverParallel measures accepted-and-durable events per
// second from 16 feeds delivering at once: each Sink.Deliver returns once
// its event is in the outbox, which concurrent deliveries share a commit
// (one fsync) for. ns/op is the time per event over all feeds; compare
// "fsync" with "nosync".
func BenchmarkDeliverParallel(b *testing.B) {
	const feeds = 16
	for _, c := range []struct {
		name string
		opts bolt.Options
	}{{"fsync", bolt.Options{}}, {"nosync", bolt.Options{NoSync: true}}} {
		b.Run(c.name, func(b *testing.B) {
			// The drain stops after the harness's cleanup, which waits
			// for the feeds' workers, and they for the drain.
			stop := make(chan struct{})
			b.Cleanup(func() { close(stop) })
			h := newHarness(b, openStoreWith(b, c.opts))
			h.start()
			sinks := make([]Sink, feeds)
			for i := range sinks {
				name := fmt.Sprintf("T%d", i)
				h.trigger("ns", name)
				sinks[i] = h.create("ns", "/_/"+name).sink
			}
			go func() { // the fires: drained, not measured
				for {
					select {
					case <-h.firer.notify:
					case <-stop:
						return
					}
				}
			}()
			var next atomic.Int64
			ctx := context.Background()
			ev := event(1, "")
			b.SetParallelism((feeds + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.RunParallel(func(pb *testing.PB) {
				sink := sinks[int(next.Add(1)-1)%feeds]
				for pb.Next() {
					if err := sink.Deliver(ctx, ev); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
