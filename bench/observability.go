package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/wispio/wisp/server"
)

// runObservability measures the warm blocking invoke with metrics and
// tracing on against both off, in the same run: Wisps side by side, each
// with its warm no-op action, called in alternating rounds. "On" is
// the metrics (Prometheus and the namespace view) and an OpenTelemetry SDK
// provider that records every span and exports none (no exporter: the
// cost of making the spans, not of shipping them); "off" is Config.NoMetrics
// and the no-op tracer of wisp serve without OTEL_EXPORTER_OTLP_ENDPOINT.
// Metrics alone (wisp serve's default) and off against off (the noise
// floor) are measured too.
func runObservability(ctx context.Context, n int, backend, wispBin string, w io.Writer) error {
	recorder := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	defer func() { _ = recorder.Shutdown(context.WithoutCancel(ctx)) }()
	start := func(metrics, tracing bool) (*stack, func(), error) {
		dir, err := os.MkdirTemp("", "wisp-bench-obs-")
		if err != nil {
			return nil, nil, err
		}
		s, err := startStack(ctx, dir, backend, wispBin, func(cfg *server.Config) {
			cfg.NoMetrics = !metrics
			cfg.Tracer = noop.NewTracerProvider()
			if tracing {
				cfg.Tracer = recorder
			}
		})
		if err != nil {
			os.RemoveAll(dir)
			return nil, nil, err
		}
		return s, func() { _ = s.close(); os.RemoveAll(dir) }, nil
	}
	// off twice: the second pair measures the noise floor (the same
	// configuration against itself).
	configs := []struct {
		name             string
		metrics, tracing bool
	}{{"off", false, false}, {"metrics and tracing", true, true}, {"metrics only", true, false}, {"off again", false, false}}
	stacks := make([]*stack, len(configs))
	for i, c := range configs {
		s, stop, err := start(c.metrics, c.tracing)
		if err != nil {
			return err
		}
		defer stop()
		if _, err := sample(ctx, 200, s.viaAPI); err != nil {
			return err
		}
		stacks[i] = s
	}
	fmt.Fprintf(w, "invoker backend: %s; warm blocking invoke against observability off (metrics off, no-op tracer), interleaved\n", backend)
	fmt.Fprintf(w, "  %-22s %10s %10s %8s %10s %10s %8s\n", "on", "p50", "off p50", "ratio", "p90", "off p90", "ratio")
	for i, c := range configs[1:] {
		with, without, err := alternate(ctx, n, stacks[i+1].viaAPI, stacks[0].viaAPI)
		if err != nil {
			return err
		}
		a50, b50 := percentile(with, .5), percentile(without, .5)
		a90, b90 := percentile(with, .9), percentile(without, .9)
		fmt.Fprintf(w, "  %-22s %10s %10s %7.3fx %10s %10s %7.3fx\n", c.name, a50.Round(time.Microsecond), b50.Round(time.Microsecond), float64(a50)/float64(b50),
			a90.Round(time.Microsecond), b90.Round(time.Microsecond), float64(a90)/float64(b90))
	}
	return cpuPerInvoke(ctx, n, stacks, func(i int) string { return configs[i].name }, w)
}

// cpuPerInvoke prints the CPU time this process (Wisp and the benchmark's
// client, not the action's own process) spends per warm invoke on each
// stack, measured in turns of n/4 invokes: less sensitive than latency to
// other load on the machine, which delays the calls but does not add to
// their CPU time.
func cpuPerInvoke(ctx context.Context, n int, stacks []*stack, name func(int) string, w io.Writer) error {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	spent := make([]time.Duration, len(stacks))
	for range 4 {
		for i, s := range stacks {
			t0 := cpu()
			for range n / 4 {
				if err := s.viaAPI(ctx); err != nil {
					return err
				}
			}
			spent[i] += cpu() - t0
		}
	}
	calls := time.Duration(n / 4 * 4)
	fmt.Fprintf(w, "  CPU of the Wisp process per warm invoke (n=%d each)\n", calls)
	for i := range stacks {
		fmt.Fprintf(w, "  %-22s %10s %7.3fx\n", name(i), (spent[i] / calls).Round(100*time.Nanosecond), float64(spent[i])/float64(spent[0]))
	}
	return nil
}

// alternate times n calls of each of a and b, one of each at a time in
// turn (a first, then b first), so that load drift and the order of the
// pair hit both alike, and returns both samples sorted.
func alternate(ctx context.Context, n int, a, b func(context.Context) error) (as, bs []time.Duration, err error) {
	as, bs = make([]time.Duration, 0, n), make([]time.Duration, 0, n)
	timed := func(fn func(context.Context) error) (time.Duration, error) {
		t0 := time.Now()
		err := fn(ctx)
		return time.Since(t0), err
	}
	for i := range n {
		first, second := a, b
		if i%2 == 1 {
			first, second = b, a
		}
		x, err := timed(first)
		if err != nil {
			return nil, nil, err
		}
		y, err := timed(second)
		if err != nil {
			return nil, nil, err
		}
		if i%2 == 1 {
			x, y = y, x
		}
		as, bs = append(as, x), append(bs, y)
	}
	sortDurations(as)
	sortDurations(bs)
	return as, bs, nil
}
