package server

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestDockerLogFlood: an action prints 512 MB without a newline (the
// engine hands it over as one endless line). The activation ends with
// OpenWhisk's truncation message in its logs, and the Go heap of the
// process running the invoker (this one) stays flat meanwhile: sampled
// during the activation, its peak stays far below what was printed.
func TestDockerLogFlood(t *testing.T) {
	const mb = 512
	_, c := startDocker(t, func(cfg *Config) { cfg.Pool.StemCells = nil })
	// writeSync: process.stdout.write would buffer it all in the action's
	// memory first, and the action would be OOM-killed.
	createAction(t, c, "flood", "nodejs:20", `const fs = require('fs');
function main(p) {
  const chunk = Buffer.alloc(1 << 20, 'x');
  for (let i = 0; i < p.mb; i++) fs.writeSync(1, chunk);
  return {printed: p.mb};
}`, nil)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	stop, peak := make(chan struct{}), make(chan uint64)
	go func() {
		var max uint64
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			max = maxOf(max, ms.HeapAlloc)
			select {
			case <-stop:
				peak <- max
				return
			case <-tick.C:
			}
		}
	}()
	act := invoke(t, c, "flood", map[string]any{"mb": mb})
	close(stop)
	top := <-peak
	if !act.Response.Success {
		t.Fatalf("flood activation = %+v %s", act.Response, mustJSON(act.Response.Result))
	}
	if n := len(act.Logs); n == 0 || !strings.Contains(act.Logs[n-1], "Logs were truncated because the total bytes size exceeds the limit of 10485760 bytes.") {
		t.Fatalf("logs end %q, want the truncation message", lastLines(act.Logs))
	}
	grew := int64(top) - int64(before.HeapAlloc)
	t.Logf("heap before %d MB, peak %d MB while the action printed %d MB without a newline", before.HeapAlloc>>20, top>>20, mb)
	if grew > 48<<20 {
		t.Fatalf("the heap grew by %d MB while the action printed %d MB without a newline", grew>>20, mb)
	}
}

func maxOf(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

// lastLines is the end of logs, short enough for a failure message.
func lastLines(logs []string) []string {
	if len(logs) > 2 {
		logs = logs[len(logs)-2:]
	}
	out := make([]string, len(logs))
	for i, l := range logs {
		if len(l) > 200 {
			l = l[:200] + "…"
		}
		out[i] = l
	}
	return out
}
