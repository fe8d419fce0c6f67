package proxy

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestNodeConcurrentActivations runs 20 activations that each wait until
// all 20 have started: it can only pass if they are in flight together.
func TestNodeConcurrentActivations(t *testing.T) {
	const n = 20
	ts := newTestServer(t, RuntimeNodeJS)
	ts.mustInit(t, code(`
		let arrived = 0; const waiting = [];
		async function main(p) {
			if (++arrived >= p.n) waiting.splice(0).forEach(release => release());
			else await new Promise(release => waiting.push(release));
			await new Promise(r => setTimeout(r, p.id % 5));
			return {id: p.id};
		}`))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, body := ts.postCtx(t, ctx, "/run", map[string]any{"value": map[string]any{"id": i, "n": n}})
			if want := fmt.Sprintf(`{"id":%d}`, i); status != http.StatusOK || body != want {
				errs <- fmt.Errorf("activation %d: %d %s, want %s", i, status, body, want)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := ts.stdout.sentinels(); got != n {
		t.Errorf("stdout has %d sentinels, want %d", got, n)
	}
}

// TestSentinels checks that when /run or a failed /init answers, the
// activation's output and then its sentinel are already on both streams.
func TestSentinels(t *testing.T) {
	sources := map[string]string{
		RuntimeNodeJS: `function main(p) { console.log("out " + p.i); console.error("err " + p.i); return {i: p.i}; }`,
		RuntimePython: "import sys\ndef main(p):\n    print('out %d' % p['i'])\n    print('err %d' % p['i'], file=sys.stderr)\n    return {'i': p['i']}\n",
	}
	for runtime, src := range sources {
		t.Run(runtime, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, runtime)
			ts.mustInit(t, code(src))
			for i := 1; i <= 3; i++ {
				if status, body := ts.post(t, "/run", map[string]any{"value": map[string]any{"i": i}}); status != http.StatusOK {
					t.Fatalf("run %d: %d %s", i, status, body)
				}
				for name, lb := range map[string]*logBuffer{"stdout": ts.stdout, "stderr": ts.stderr} {
					if got := lb.sentinels(); got != i {
						t.Fatalf("after run %d %s has %d sentinels:\n%s", i, name, got, lb)
					}
					prefix := map[string]string{"stdout": "out", "stderr": "err"}[name]
					if want := fmt.Sprintf("%s %d\n%s\n", prefix, i, Sentinel); !strings.HasSuffix(lb.String(), want) {
						t.Fatalf("after run %d %s ends %q, want suffix %q", i, name, lb, want)
					}
				}
			}
		})
	}
	t.Run("failed init", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, RuntimeNodeJS)
		if status, _ := ts.post(t, "/init", map[string]any{"value": code("function main( {")}); status != http.StatusBadGateway {
			t.Fatalf("init: %d", status)
		}
		if ts.stdout.sentinels() != 1 || ts.stderr.sentinels() != 1 {
			t.Fatalf("sentinels: stdout %d stderr %d; stderr:\n%s", ts.stdout.sentinels(), ts.stderr.sentinels(), ts.stderr)
		}
		if !strings.Contains(ts.stderr.String(), "Error during initialization:") {
			t.Fatalf("stderr lacks the init error:\n%s", ts.stderr)
		}
	})
}

func TestCloseKeepsForeignFiles(t *testing.T) {
	requireInterpreter(t, RuntimePython)
	dir := t.TempDir()
	keep := filepath.Join(dir, "keep.txt")
	if err := os.WriteFile(keep, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Runtime: RuntimePython, WorkDir: dir, PythonPath: pythonPath(t)})
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: s}
	ts.mustInit(t, code("def main(a):\n    return {}\n"))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "keep.txt" {
		t.Fatalf("work dir after Close: %v, want only keep.txt", entries)
	}
}

// TestLauncherDeath checks that an activation killing the launcher gets a
// 502, that the server stays unusable and that the sentinels are written.
func TestLauncherDeath(t *testing.T) {
	sources := map[string]string{
		RuntimeNodeJS: `function main(p) { if (p.die) process.exit(7); return {ok: true}; }`,
		RuntimePython: "import os\ndef main(p):\n    if p.get('die'):\n        os._exit(7)\n    return {'ok': True}\n",
	}
	for runtime, src := range sources {
		t.Run(runtime, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, runtime)
			ts.mustInit(t, code(src))
			if status, _ := ts.post(t, "/run", map[string]any{"value": map[string]any{}}); status != http.StatusOK {
				t.Fatalf("first run: %d", status)
			}
			status, body := ts.post(t, "/run", map[string]any{"value": map[string]any{"die": true}})
			if status != http.StatusBadGateway || !jsonEqual(body, errorBody(msgAbnormalRun)) {
				t.Fatalf("dying run: %d %s", status, body)
			}
			<-ts.Exited()
			if ts.stdout.sentinels() != 2 || ts.stderr.sentinels() != 2 {
				t.Errorf("sentinels: stdout %d stderr %d, want 2 each", ts.stdout.sentinels(), ts.stderr.sentinels())
			}
			status, body = ts.post(t, "/run", map[string]any{"value": map[string]any{}})
			if status != http.StatusBadGateway || !jsonEqual(body, errorBody(msgAbnormalRun)) {
				t.Fatalf("run after death: %d %s", status, body)
			}
			if ts.Pid() != 0 {
				t.Errorf("Pid() = %d after death", ts.Pid())
			}
		})
	}
}

// TestRunHonoursContext cancels a request while its activation hangs: the
// handler must return, and the launcher must keep serving.
func TestRunHonoursContext(t *testing.T) {
	ts := newTestServer(t, RuntimeNodeJS)
	started := make(chan struct{})
	var once sync.Once
	ts.stdout.onLine = func(line string) {
		if strings.Contains(line, "hanging") {
			once.Do(func() { close(started) })
		}
	}
	ts.mustInit(t, code(`function main(p) {
		if (p.hang) { console.log("hanging"); return new Promise(() => {}); }
		return {ok: true}; }`))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		status, _ := ts.postCtx(t, ctx, "/run", map[string]any{"value": map[string]any{"hang": true}})
		done <- status
	}()
	<-started
	cancel()
	<-done
	if status, body := ts.post(t, "/run", map[string]any{"value": map[string]any{}}); status != http.StatusOK || body != `{"ok":true}` {
		t.Fatalf("run after a cancelled one: %d %s", status, body)
	}
}

// TestLargePayloadAndLogLines sends parameters and log lines larger than the
// pipe and line buffers.
func TestLargePayloadAndLogLines(t *testing.T) {
	ts := newTestServer(t, RuntimeNodeJS)
	ts.mustInit(t, code(`function main(p) { console.log("x".repeat(200000)); return {s: p.s, n: p.s.length}; }`))
	big := strings.Repeat("ab\n", 400_000)
	status, body := ts.post(t, "/run", map[string]any{"value": map[string]any{"s": big}})
	var res struct {
		S string
		N int
	}
	if status != http.StatusOK || json.Unmarshal([]byte(body), &res) != nil || res.S != big || res.N != len(big) {
		t.Fatalf("run: %d, %d bytes", status, len(body))
	}
	if !strings.Contains(ts.stdout.String(), strings.Repeat("x", 200000)+"\n"+Sentinel+"\n") {
		t.Fatalf("stdout lacks the long line followed by the sentinel")
	}
	if ts.stdout.sentinels() != 1 || ts.stderr.sentinels() != 1 {
		t.Fatalf("sentinels: stdout %d stderr %d", ts.stdout.sentinels(), ts.stderr.sentinels())
	}
}

// TestPythonRunsOneAtATime sends parallel requests to a Python action that
// records how many activations overlap: each must get its own answer.
func TestPythonRunsOneAtATime(t *testing.T) {
	const n = 8
	ts := newTestServer(t, RuntimePython)
	ts.mustInit(t, code("inflight = 0\n"+
		"def main(p):\n    global inflight\n    inflight += 1\n    seen = inflight\n"+
		"    inflight -= 1\n    return {'id': p['id'], 'overlap': seen}\n"))
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, body := ts.post(t, "/run", map[string]any{"value": map[string]any{"id": i}})
			if want := fmt.Sprintf(`{"id": %d, "overlap": 1}`, i); status != http.StatusOK || !jsonEqual(body, want) {
				t.Errorf("activation %d: %d %s, want %s", i, status, body, want)
			}
		}()
	}
	wg.Wait()
	if got := ts.stderr.sentinels(); got != n {
		t.Errorf("stderr has %d sentinels, want %d", got, n)
	}
}
