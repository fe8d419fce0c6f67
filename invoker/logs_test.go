package invoker

import (
	"context"
	"fmt"
	"io"
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
