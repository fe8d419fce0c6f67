package invoker

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"
)

func fixedCollector() *LogCollector {
	lc := NewLogCollector()
	lc.now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC) }
	return lc
}

func TestLogCollectorSplitsActivations(t *testing.T) {
	lc := fixedCollector()
	lc.Start(1 << 20)
	io.WriteString(lc.Stdout(), "hello\nwor")
	io.WriteString(lc.Stdout(), "ld\n"+Sentinel+"\n")
	io.WriteString(lc.Stderr(), "oops\n"+Sentinel+"\nnext\n")
	lines, complete := lc.Collect(context.Background())
	want := []string{
		"2026-01-02T03:04:05.000000006Z stdout: hello",
		"2026-01-02T03:04:05.000000006Z stdout: world",
		"2026-01-02T03:04:05.000000006Z stderr: oops",
	}
	if !complete || strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q complete=%v, want %q", lines, complete, want)
	}
	io.WriteString(lc.Stdout(), Sentinel+"\n")
	io.WriteString(lc.Stderr(), Sentinel+"\n")
	lines, complete = lc.Collect(context.Background())
	if !complete || len(lines) != 1 || !strings.HasSuffix(lines[0], "stderr: next") {
		t.Fatalf("second activation: %q %v", lines, complete)
	}
}

func TestLogCollectorWaitsForBothSentinels(t *testing.T) {
	lc := fixedCollector()
	lc.Start(-1)
	io.WriteString(lc.Stdout(), "a\n"+Sentinel+"\n")
	got := make(chan []string)
	go func() {
		lines, _ := lc.Collect(context.Background())
		got <- lines
	}()
	io.WriteString(lc.Stderr(), Sentinel+"\n")
	if lines := <-got; len(lines) != 1 {
		t.Fatalf("got %q", lines)
	}
}

func TestLogCollectorIncompleteOnContext(t *testing.T) {
	lc := fixedCollector()
	lc.Start(-1)
	io.WriteString(lc.Stdout(), "partial run\n")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	lines, complete := lc.Collect(ctx)
	if complete || len(lines) != 1 {
		t.Fatalf("got %q complete=%v", lines, complete)
	}
}

func TestLogCollectorTruncates(t *testing.T) {
	lc := fixedCollector()
	lc.Start(10)
	for i := range 5 {
		fmt.Fprintf(lc.Stdout(), "line%d\n", i)
	}
	io.WriteString(lc.Stdout(), Sentinel+"\n")
	io.WriteString(lc.Stderr(), Sentinel+"\n")
	lines, _ := lc.Collect(context.Background())
	if len(lines) != 3 || !strings.Contains(lines[2], "Logs were truncated because the total bytes size exceeds the limit of 10 bytes.") {
		t.Fatalf("got %q", lines)
	}
}

// TestLogCollectorLongLines: a line longer than the limit keeps only what
// fits (Collect reports the truncation) and a sentinel at its end still
// ends the activation.
func TestLogCollectorLongLines(t *testing.T) {
	for _, tt := range []struct {
		name  string
		write []string // to stdout; stderr prints only its sentinel
		want  []string // suffixes of the collected lines
	}{
		{"sentinel after output on one line", []string{"partial" + Sentinel + "\n"}, []string{"stdout: partial"}},
		{"line over the limit", []string{strings.Repeat("x", 30), strings.Repeat("y", 30) + "\n" + Sentinel + "\n"},
			[]string{"stderr: Logs were truncated because the total bytes size exceeds the limit of 20 bytes."}},
		{"sentinel ends an overlong line", []string{strings.Repeat("x", 100), Sentinel[:10], Sentinel[10:] + "\nnext\n"},
			[]string{"stderr: Logs were truncated because the total bytes size exceeds the limit of 20 bytes."}},
		{"short lines then a long one", []string{"ok\n", strings.Repeat("z", 25) + "\n" + Sentinel + "\n"},
			[]string{"stdout: ok", "stderr: Logs were truncated because the total bytes size exceeds the limit of 20 bytes."}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			lc := fixedCollector()
			lc.Start(20)
			for _, w := range tt.write {
				io.WriteString(lc.Stdout(), w)
			}
			io.WriteString(lc.Stderr(), Sentinel+"\n")
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			lines, complete := lc.Collect(ctx)
			if !complete || len(lines) != len(tt.want) {
				t.Fatalf("got %q complete=%v, want %q", lines, complete, tt.want)
			}
			for i, w := range tt.want {
				if !strings.HasSuffix(lines[i], w) {
					t.Fatalf("line %d = %q, want suffix %q", i, lines[i], w)
				}
			}
		})
	}
}

// TestLogCollectorHeapStaysFlat streams 512 MB without a newline, as an
// action printing forever would, and samples the Go heap as it goes: it
// must stay near the log limit, not grow with the output.
func TestLogCollectorHeapStaysFlat(t *testing.T) {
	const total, limit = 512 << 20, 1 << 20
	lc := NewLogCollector()
	lc.Start(limit)
	chunk := []byte(strings.Repeat("x", 64<<10))
	var before, ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var peak uint64
	for written := 0; written < total; written += len(chunk) {
		lc.Stdout().Write(chunk)
		if written%(32<<20) == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}
	io.WriteString(lc.Stdout(), Sentinel+"\n")
	io.WriteString(lc.Stderr(), Sentinel+"\n")
	runtime.ReadMemStats(&ms)
	peak = max(peak, ms.HeapAlloc)
	lines, complete := lc.Collect(context.Background())
	if !complete || len(lines) != 1 || !strings.Contains(lines[0], "exceeds the limit of 1048576 bytes") {
		t.Fatalf("got %d lines %.200q complete=%v", len(lines), lines, complete)
	}
	if grew := int64(peak) - int64(before.HeapAlloc); grew > 16<<20 {
		t.Fatalf("the heap grew by %d MB while 512 MB streamed without a newline", grew>>20)
	}
	t.Logf("heap: %d MB before, peak %d MB while 512 MB streamed", before.HeapAlloc>>20, peak>>20)
}
