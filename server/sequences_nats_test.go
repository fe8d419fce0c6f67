package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/wispio/wisp/internal/testenv"
)

// onNATS configures a one-node cluster on the suite's NATS server.
func onNATS(t testing.TB) func(*Config) {
	url := testenv.NATS(t)
	return func(c *Config) {
		c.Cluster.BusURL = url
		c.Cluster.BusPrefix = fmt.Sprintf("seq%d", time.Now().UnixNano())
		c.Cluster.ID = "n1"
	}
}

// TestSequenceOnNATS: on a cluster's bus a blocking sequence goes through
// the compositions queue and is answered with its record, and a
// non-blocking one is recorded; both list their derived component ids.
func TestSequenceOnNATS(t *testing.T) {
	srv, ts := startTenantsWith(t, onNATS(t), "alice")
	waitFor(t, "the invoker's first ping", func() bool { return slices.Contains(srv.Invokers(), "n1") })
	a := ts["alice"]
	a.action(t, "inc", incJS, nil, nil)
	a.sequence(t, "twice", "inc", "inc")
	seq := a.invoke(t, "/namespaces/_/actions/twice", map[string]any{"value": 1})
	if !seq.Response.Success || !jsonEqual(t, seq.Response.Result, map[string]any{"value": 3}) || len(seq.Logs) != 2 {
		t.Fatalf("blocking sequence = %+v %s", seq, seq.Response.Result)
	}
	status, out := a.call(t, http.MethodPost, "/namespaces/_/actions/twice?blocking=false", map[string]any{"value": 5})
	if status != http.StatusAccepted {
		t.Fatalf("non-blocking sequence = %d %s", status, out)
	}
	var accepted struct{ ActivationID string }
	if err := json.Unmarshal(out, &accepted); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the non-blocking sequence's record", func() bool {
		s, _ := a.call(t, http.MethodGet, "/namespaces/_/activations/"+accepted.ActivationID, nil)
		return s == http.StatusOK
	})
	if got := a.activation(t, accepted.ActivationID); !jsonEqual(t, got.Response.Result, map[string]any{"value": 7}) || len(got.Logs) != 2 {
		t.Fatalf("non-blocking sequence record = %+v %s", got, got.Response.Result)
	}
}

// BenchmarkSequenceVsInvokesOnNATS is BenchmarkSequenceVsInvokes on a
// one-node cluster: the blocking sequence goes through the compositions
// queue, each invoke through the invoker's queue and the completions.
func BenchmarkSequenceVsInvokesOnNATS(b *testing.B) {
	srv, ts := startTenantsWith(b, onNATS(b), "bench")
	waitFor(b, "the invoker's first ping", func() bool { return slices.Contains(srv.Invokers(), "n1") })
	tn := ts["bench"]
	for i := range 3 {
		tn.action(b, fmt.Sprintf("noop%d", i), `function main(p) { return p }`, nil, nil)
	}
	tn.sequence(b, "seq", "noop0", "noop1", "noop2")
	ctx := context.Background()
	run := func(name string) {
		if _, _, err := tn.c.InvokeAction(ctx, name, nil, true, true); err != nil {
			b.Fatal(err)
		}
	}
	run("seq") // warm all three containers
	measure := func(f func()) time.Duration {
		start := time.Now()
		for range b.N {
			f()
		}
		return time.Since(start)
	}
	b.ResetTimer()
	seq := measure(func() { run("seq") })
	separate := measure(func() { run("noop0"); run("noop1"); run("noop2") })
	b.StopTimer()
	b.ReportMetric(float64(seq.Microseconds())/float64(b.N), "seq-µs/op")
	b.ReportMetric(float64(separate.Microseconds())/float64(b.N), "3invokes-µs/op")
	b.ReportMetric(float64(seq)/float64(separate), "seq/3invokes")
}
