package main

import (
	"context"
	"strings"
	"testing"

	"github.com/wispio/wisp/internal/testenv"
)

// BenchmarkWarmInvoke measures a warm blocking invoke through the REST API
// and, in the same process, a POST /run straight to the same warm container;
// it reports the API's overhead per call and the ratio of the two.
func BenchmarkWarmInvoke(b *testing.B) {
	testenv.Node(b)
	ctx := context.Background()
	s, err := startStack(ctx, b.TempDir(), "process", "", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.close()
	var api, direct float64
	for _, p := range []struct {
		name string
		fn   func(context.Context) error
		dst  *float64
	}{{"direct", s.direct, &direct}, {"api", s.viaAPI, &api}} {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				if err := p.fn(ctx); err != nil {
					b.Fatal(err)
				}
			}
			*p.dst = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			if p.dst == &api && direct > 0 {
				b.ReportMetric(api/direct, "api/direct")
				b.ReportMetric((api-direct)/1e3, "overhead-µs")
			}
		})
	}
}

// TestHarness runs the harness briefly so that it stays working.
func TestHarness(t *testing.T) {
	testenv.Node(t)
	var out testWriter
	if err := run(context.Background(), 40, "process", "", &out); err != nil {
		t.Fatal(err)
	}
	t.Log(string(out))
}

// TestFeedHarness runs the feed latency mode briefly on the real
// Mosquitto and pouchdb-server so that it stays working: every event must
// start the action and reach the direct follower.
func TestFeedHarness(t *testing.T) {
	testenv.Node(t)
	broker, couch := testenv.Mosquitto(t), testenv.CouchDB(t)
	var out testWriter
	if err := runFeeds(context.Background(), 20, broker, couch, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"MQTT publish → action start", "CouchDB write → action start"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("no %q table in:\n%s", want, out)
		}
	}
	t.Log(string(out))
}

type testWriter []byte

func (w *testWriter) Write(p []byte) (int, error) { *w = append(*w, p...); return len(p), nil }

// TestClusterHarness runs the cluster mode briefly on the real nats-server
// and pouchdb-server so that it stays working.
func TestClusterHarness(t *testing.T) {
	testenv.Node(t)
	nats, couch := testenv.NATS(t), testenv.CouchDB(t)
	var out testWriter
	if err := runCluster(context.Background(), 20, nats, couch, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"over NATS vs in-process", "1 invoker", "3 invokers"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	t.Log(string(out))
}
