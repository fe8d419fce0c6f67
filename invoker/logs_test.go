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

// TestLogCollectorTruncates: a line counts as the stamped line the record
// holds, so a limit of two such lines and a bit keeps two.
func TestLogCollectorTruncates(t *testing.T) {
	lc := fixedCollector()
	limit := 2*(stampedOverhead+len("line0")) + 5
	lc.Start(limit)
	for i := range 5 {
		fmt.Fprintf(lc.Stdout(), "line%d\n", i)
	}
	io.WriteString(lc.Stdout(), Sentinel+"\n")
	io.WriteString(lc.Stderr(), Sentinel+"\n")
	lines, _ := lc.Collect(context.Background())
	if len(lines) != 3 || !strings.Contains(lines[2], fmt.Sprintf("Logs were truncated because the total bytes size exceeds the limit of %d bytes.", limit)) {
		t.Fatalf("got %q", lines)
	}
}

// TestLogCollectorLongLines: a line longer than the limit keeps only what
// fits (Collect reports the truncation) and a sentinel at its end still
// ends the activation. The limit leaves 20 bytes of text on one line.
func TestLogCollectorLongLines(t *testing.T) {
	limit := stampedOverhead + 20
	truncated := fmt.Sprintf("stderr: Logs were truncated because the total bytes size exceeds the limit of %d bytes.", limit)
	for _, tt := range []struct {
		name  string
		write []string // to stdout; stderr prints only its sentinel
		want  []string // suffixes of the collected lines
	}{
		{"sentinel after output on one line", []string{"partial" + Sentinel + "\n"}, []string{"stdout: partial"}},
		{"line over the limit", []string{strings.Repeat("x", 30), strings.Repeat("y", 30) + "\n" + Sentinel + "\n"},
			[]string{truncated}},
		{"sentinel ends an overlong line", []string{strings.Repeat("x", 100), Sentinel[:10], Sentinel[10:] + "\nnext\n"},
			[]string{truncated}},
		{"short lines then a long one", []string{"ok\n", strings.Repeat("z", 25) + "\n" + Sentinel + "\n"},
			[]string{"stdout: ok", truncated}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			lc := fixedCollector()
			lc.Start(limit)
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

// pending sums what the collector holds of stream's lines that Collect
// has not taken, and counts its segments.
func (lc *LogCollector) pending(stream int) (bytes, segments int) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	for _, s := range lc.streams[stream].segments {
		bytes += s.size
	}
	return bytes, len(lc.streams[stream].segments)
}

// TestLogCollectorBounded: what a container prints costs the collector a
// bounded amount whatever its shape: empty lines count against the log
// limit (each is a stamped line in the record), output after the
// activation's sentinel is held to maxStreamLog over all segments, and a
// flood of sentinels keeps a bounded number of segments.
func TestLogCollectorBounded(t *testing.T) {
	const limit = 1 << 20
	stamped := len("2026-01-02T03:04:05.000000006Z stdout: ")
	for _, tt := range []struct {
		name  string
		limit int
		write func(lc *LogCollector)
		// maxLines bounds the lines Collect returns (the truncation
		// message included); maxPending bounds what stdout still holds
		// after Collect, in bytes and segments.
		maxLines, maxPendingBytes, maxSegments int
	}{
		{"empty lines", limit, func(lc *LogCollector) {
			nl := []byte(strings.Repeat("\n", 64<<10))
			for range 32 { // 2 MB of newlines, 2 million lines
				lc.Stdout().Write(nl)
			}
			io.WriteString(lc.Stdout(), Sentinel+"\n")
		}, limit/stamped + 1, 0, 1},
		{"limit zero", 0, func(lc *LogCollector) {
			io.WriteString(lc.Stdout(), "\n\n\nx\n"+Sentinel+"\n")
		}, 1, 0, 1},
		{"output after the sentinel", limit, func(lc *LogCollector) {
			line := strings.Repeat("y", 900<<10) + "\n" + Sentinel + "\n"
			for range 80 { // 72 MB in segments of later activations
				io.WriteString(lc.Stdout(), line)
			}
		}, 2, maxStreamLog, 80},
		{"sentinel flood", limit, func(lc *LogCollector) {
			flood := []byte(strings.Repeat(Sentinel+"\n", 10_000))
			for range 100 { // a million sentinels
				lc.Stdout().Write(flood)
			}
		}, 0, 0, maxPendingSegments},
	} {
		t.Run(tt.name, func(t *testing.T) {
			lc := fixedCollector()
			lc.Start(tt.limit)
			tt.write(lc)
			io.WriteString(lc.Stderr(), Sentinel+"\n")
			lines, complete := lc.Collect(context.Background())
			if !complete || len(lines) > tt.maxLines {
				t.Fatalf("collected %d lines (complete=%v), want at most %d", len(lines), complete, tt.maxLines)
			}
			if n := len(lines); n > 0 && tt.maxLines > 1 && n == tt.maxLines && !strings.Contains(lines[n-1], "Logs were truncated") {
				t.Fatalf("the last line is %.100q, want the truncation message", lines[n-1])
			}
			if bytes, segs := lc.pending(0); bytes > tt.maxPendingBytes || segs > tt.maxSegments {
				t.Fatalf("stdout still holds %d bytes in %d segments, want at most %d bytes in %d", bytes, segs, tt.maxPendingBytes, tt.maxSegments)
			}
		})
	}
}

// TestLogCollectorConcurrentActivations: the activations of a concurrent
// action each end their segment, up to the largest concurrency, so each
// Collect completes with its own lines.
func TestLogCollectorConcurrentActivations(t *testing.T) {
	const concurrent = 500 // DefaultSystemLimits' largest concurrency
	lc := fixedCollector()
	lc.Start(1 << 20)
	for i := range concurrent {
		fmt.Fprintf(lc.Stdout(), "run %d\n%s\n", i, Sentinel)
		fmt.Fprintf(lc.Stderr(), "%s\n", Sentinel)
	}
	for i := range concurrent {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		lines, complete := lc.Collect(ctx)
		cancel()
		if !complete || len(lines) != 1 || !strings.HasSuffix(lines[0], fmt.Sprintf("stdout: run %d", i)) {
			t.Fatalf("activation %d: %q complete=%v", i, lines, complete)
		}
	}
}
