package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

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

// TestHarness runs the harness briefly so that it stays working, and checks
// the table it printed.
func TestHarness(t *testing.T) {
	testenv.Node(t)
	var out testWriter
	if err := run(context.Background(), 40, "process", "", &out); err != nil {
		t.Fatal(err)
	}
	if err := checkWarmReport(string(out), "process", 40); err != nil {
		t.Errorf("%v in:\n%s", err, out)
	}
	t.Log(string(out))
}

// checkWarmReport parses runWarm's output: the backend line, the title with
// n, the header, then p50, p90 and p99 rows whose durations parse, are
// positive and non-decreasing, and whose ratio and overhead agree with them.
func checkWarmReport(out, backend string, n int) error {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 6 {
		return fmt.Errorf("%d lines, want 6", len(lines))
	}
	if want := "invoker backend: " + backend; lines[0] != want {
		return fmt.Errorf("first line %q, want %q", lines[0], want)
	}
	if want := fmt.Sprintf("(n=%d)", n); !strings.HasPrefix(lines[1], "warm blocking invoke") || !strings.HasSuffix(lines[1], want) {
		return fmt.Errorf("title %q, want a warm blocking invoke ending %q", lines[1], want)
	}
	if got := strings.Fields(lines[2]); !slices.Equal(got, []string{"wisp", "direct", "ratio", "overhead"}) {
		return fmt.Errorf("header %q", lines[2])
	}
	var prev [2]time.Duration
	for i, label := range []string{"p50", "p90", "p99"} {
		f := strings.Fields(lines[3+i])
		if len(f) != 5 || f[0] != label {
			return fmt.Errorf("row %q, want %s and four numbers", lines[3+i], label)
		}
		var d [3]time.Duration
		for j, s := range []string{f[1], f[2], f[4]} {
			v, err := time.ParseDuration(s)
			if err != nil {
				return fmt.Errorf("%s: %w", label, err)
			}
			d[j] = v
		}
		wisp, direct, overhead := d[0], d[1], d[2]
		if wisp <= 0 || direct <= 0 || wisp < prev[0] || direct < prev[1] {
			return fmt.Errorf("%s: wisp %v direct %v after %v %v: want positive, non-decreasing", label, wisp, direct, prev[0], prev[1])
		}
		prev = [2]time.Duration{wisp, direct}
		ratio, err := strconv.ParseFloat(strings.TrimSuffix(f[3], "x"), 64)
		if err != nil || !strings.HasSuffix(f[3], "x") {
			return fmt.Errorf("%s: ratio %q", label, f[3])
		}
		// Durations are printed rounded to the microsecond, the ratio to 0.01.
		if want := float64(wisp) / float64(direct); math.Abs(ratio-want) > 0.01+0.02*want {
			return fmt.Errorf("%s: ratio %v, but %v/%v = %.3f", label, ratio, wisp, direct, want)
		}
		if diff := overhead - (wisp - direct); diff < -2*time.Microsecond || diff > 2*time.Microsecond {
			return fmt.Errorf("%s: overhead %v, but %v-%v = %v", label, overhead, wisp, direct, wisp-direct)
		}
	}
	return nil
}

func TestCheckWarmReport(t *testing.T) {
	good := `invoker backend: process
warm blocking invoke (REST API, result=true) vs POST /run to the same warm proxy (n=40)
                 wisp       direct      ratio     overhead
  p50           536µs        243µs      2.21x        293µs
  p90           809µs        534µs      1.51x        275µs
  p99         2.111ms      1.022ms      2.07x      1.089ms
`
	if err := checkWarmReport(good, "process", 40); err != nil {
		t.Fatalf("good report: %v", err)
	}
	for name, edit := range map[string][2]string{
		"other backend":  {"process", "docker"},
		"other n":        {"(n=40)", "(n=4)"},
		"row missing":    {"  p99         2.111ms      1.022ms      2.07x      1.089ms\n", ""},
		"no number":      {"536µs", "?"},
		"zero direct":    {"243µs", "0s"},
		"wrong ratio":    {"2.21x", "3.21x"},
		"wrong overhead": {"293µs", "193µs"},
		"decreasing":     {"809µs", "509µs"},
	} {
		if err := checkWarmReport(strings.Replace(good, edit[0], edit[1], 1), "process", 40); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
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
	for _, want := range []string{"MQTT publish → action start", "CouchDB write → action start", "action start vs the bridge"} {
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

// TestAPIGWHarness runs the API gateway mode briefly so that it stays
// working.
func TestAPIGWHarness(t *testing.T) {
	testenv.Node(t)
	var out testWriter
	if err := runAPIGW(context.Background(), 40, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "API gateway route vs the same web action") {
		t.Fatalf("no table in:\n%s", out)
	}
	t.Log(string(out))
}

// TestInvokersHarness runs the invokers mode briefly on the real
// nats-server and pouchdb-server, with invokers of 2 activations each and 12
// callers, so that it stays working: with 3 invokers every invoker runs
// activations (the controller spreads the load).
func TestInvokersHarness(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 6 wisp processes")
	}
	testenv.Node(t)
	nats, couch := testenv.NATS(t), testenv.CouchDB(t)
	var out testWriter
	cfg := scaleConfig{NATSURL: nats, CouchURL: couch, Duration: 2 * time.Second, Warm: time.Second,
		Callers: 12, Capacity: 2, SleepMS: 200, Sizes: []int{1, 3}}
	results, err := runInvokers(context.Background(), cfg, &out)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(string(out))
	if len(results) != 2 || len(results[1].perNode) != 3 {
		t.Fatalf("results %+v, want 1 and 3 invokers", results)
	}
	for i, n := range results[1].perNode {
		if n == 0 {
			t.Errorf("invoker %d of 3 ran no activation: %v", i, results[1].perNode)
		}
	}
	if !strings.Contains(string(out), "scaling 1 -> 3 invokers") {
		t.Errorf("no ratio line in:\n%s", out)
	}
}

// TestThroughputHarness runs the throughput mode briefly so that it stays
// working, and checks its table: one row per concurrency level with
// positive rates and a ratio that agrees with them, then the non-blocking
// figure.
func TestThroughputHarness(t *testing.T) {
	testenv.Node(t)
	var out testWriter
	if err := runThroughput(context.Background(), 40, "process", "", &out); err != nil {
		t.Fatal(err)
	}
	if err := checkThroughputReport(string(out)); err != nil {
		t.Errorf("%v in:\n%s", err, out)
	}
	t.Log(string(out))
}

func checkThroughputReport(out string) error {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if want := 4 + len(concurrencyLevels); len(lines) != want {
		return fmt.Errorf("%d lines, want %d", len(lines), want)
	}
	for i, c := range concurrencyLevels {
		f := strings.Fields(lines[3+i])
		if len(f) != 4 || f[0] != strconv.Itoa(c) {
			return fmt.Errorf("row %q, want %d callers and three numbers", lines[3+i], c)
		}
		wisp, err1 := strconv.ParseFloat(f[1], 64)
		direct, err2 := strconv.ParseFloat(f[2], 64)
		ratio, err3 := strconv.ParseFloat(strings.TrimSuffix(f[3], "x"), 64)
		if err := errors.Join(err1, err2, err3); err != nil || wisp <= 0 || direct <= 0 {
			return fmt.Errorf("row %q: %v", lines[3+i], err)
		}
		if want := wisp / direct; math.Abs(ratio-want) > 0.01+0.02*want {
			return fmt.Errorf("row %q: ratio %v, but %v/%v = %.3f", lines[3+i], ratio, wisp, direct, want)
		}
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "non-blocking invokes") || !strings.Contains(last, "accepted/s") {
		return fmt.Errorf("last line %q, want the non-blocking figure", last)
	}
	return nil
}

func TestCheckThroughputReport(t *testing.T) {
	good := `invoker backend: process
warm blocking invokes per second (REST API, result=true) vs POST /run to the same warm proxy, by concurrent callers
  callers        wisp/s     direct/s    ratio
  1                1170         3577    0.33x
  4                1916         6489    0.30x
  16               1619         5357    0.30x
  64               1395         7761    0.18x
non-blocking invokes (n=2000, 256 callers, fsync on): 657 accepted/s (202 once durable), 649 completed/s (every record readable)
`
	if err := checkThroughputReport(good); err != nil {
		t.Fatalf("good report: %v", err)
	}
	for name, edit := range map[string][2]string{
		"row missing":  {"  16               1619         5357    0.30x\n", ""},
		"wrong level":  {"  4    ", "  5    "},
		"wrong ratio":  {"0.18x", "0.38x"},
		"zero direct":  {"3577", "0"},
		"no figure":    {"non-blocking", "blocking"},
		"not a number": {"1916", "?"},
	} {
		if err := checkThroughputReport(strings.Replace(good, edit[0], edit[1], 1)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
