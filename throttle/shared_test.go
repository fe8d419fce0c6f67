package throttle

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

// A shared throttle adds the other nodes' reported counts to its own: the
// limits hold for the cluster. Reports of another minute add nothing to
// the per-minute counts, and a silent node's stop counting.
func TestSharedCounts(t *testing.T) {
	check := map[string]func(*Throttle, context.Context, string) error{
		"invoke": (*Throttle).CheckInvoke, "fire": (*Throttle).CheckFire,
	}
	tests := []struct {
		name    string
		lim     Limits
		check   string
		peer    ReportCount
		minute  int64 // relative to the current one
		silence time.Duration
		allowed int // checks that pass before the first refusal
	}{
		{"invocations add up", Limits{InvocationsPerMinute: 5}, "invoke", ReportCount{Invocations: 3}, 0, 0, 2},
		{"fires add up", Limits{FiresPerMinute: 5}, "fire", ReportCount{Fires: 4}, 0, 0, 1},
		{"in flight adds up", Limits{ConcurrentInvocations: 5}, "invoke", ReportCount{InFlight: 5}, 0, 0, 0},
		{"last minute's count nothing", Limits{InvocationsPerMinute: 5}, "invoke", ReportCount{Invocations: 5}, -1, 0, 5},
		{"a silent node counts nothing", Limits{ConcurrentInvocations: 2}, "invoke", ReportCount{InFlight: 2}, 0, PeerSilence + time.Second, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th, clk := newTest(tt.lim, nil)
			th.Share("c1")
			now := clk.Now()
			th.Merge(Report{Node: "c2", Minute: now.Unix()/60 + tt.minute, Namespaces: map[string]ReportCount{"alice": tt.peer}})
			th.Merge(Report{Node: "c1", Minute: now.Unix() / 60, Namespaces: map[string]ReportCount{"alice": {Invocations: 100, Fires: 100, InFlight: 100}}}) // its own: ignored
			clk.Add(tt.silence)
			for i := 0; ; i++ {
				err := check[tt.check](th, t.Context(), "alice")
				if err == nil && tt.lim.ConcurrentInvocations > 0 {
					th.Started("alice")
				}
				if err != nil {
					if i != tt.allowed {
						t.Fatalf("refused after %d checks (%v), want %d", i, err, tt.allowed)
					}
					return
				}
				if i >= tt.allowed {
					t.Fatalf("%d checks passed, want %d", i+1, tt.allowed)
				}
			}
		})
	}
}

// Report carries this node's counts of the current minute and in flight.
func TestReport(t *testing.T) {
	th, clk := newTest(Limits{InvocationsPerMinute: 10, FiresPerMinute: 10}, nil)
	th.Share("c1")
	ctx := t.Context()
	for range 3 {
		_ = th.CheckInvoke(ctx, "alice")
	}
	_ = th.CheckFire(ctx, "alice")
	th.Started("bob")
	r := th.Report()
	if r.Node != "c1" || r.Minute != clk.Now().Unix()/60 || r.Namespaces["alice"] != (ReportCount{Invocations: 3, Fires: 1}) || r.Namespaces["bob"] != (ReportCount{InFlight: 1}) {
		t.Fatalf("report %+v", r)
	}
	clk.Add(time.Minute)
	if r := th.Report(); len(r.Namespaces) != 1 || r.Namespaces["bob"] != (ReportCount{InFlight: 1}) {
		t.Fatalf("report of the next minute %+v, want bob's in-flight only", r)
	}
}

// BenchmarkCheckInvokeShared is BenchmarkCheckInvoke with the reports of
// two other controllers to add up.
func BenchmarkCheckInvokeShared(b *testing.B) {
	th := New(Config{Defaults: Limits{InvocationsPerMinute: 1 << 30, ConcurrentInvocations: 1 << 30}}, nil, slog.New(slog.DiscardHandler))
	th.Share("c1")
	minute := time.Now().Unix() / 60
	for _, node := range []string{"c2", "c3"} {
		th.Merge(Report{Node: node, Minute: minute, Namespaces: map[string]ReportCount{"alice": {Invocations: 10, InFlight: 3}, "bob": {Fires: 2}}})
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := th.CheckInvoke(ctx, "alice"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
