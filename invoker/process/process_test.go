package process

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wispio/wisp/internal/testenv"
	"github.com/wispio/wisp/invoker"
)

func post(t testing.TB, url string, body any) (int, string) {
	t.Helper()
	b, _ := json.Marshal(body)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	resp, err := invoker.NewHTTPClient().Do(req) // dials unix socket URLs too
	if err != nil {
		t.Fatalf("post %s: %v", url, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// procState reads the state letter of a process from /proc ("T" stopped).
func procState(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "gone"
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return fields[0]
}

// TestLifecycle checks what is the process backend's own in a
// container's life (logs, the launcher's process state when paused,
// resumed and destroyed); the rest of it is TestBackendConformance's.
func TestLifecycle(t *testing.T) {
	testenv.Node(t)
	b, err := New(Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(context.Background())
	c, err := b.Create(context.Background(), invoker.Spec{Kind: "nodejs:20", MemoryMB: 128, Action: "/ns/a"})
	if err != nil {
		t.Fatal(err)
	}
	if status, body := post(t, c.URL()+"/init", map[string]any{"value": map[string]any{"main": "main", "code": `function main(p) { console.log("hi"); return {pid: process.pid, x: p.x} }`}}); status != 200 {
		t.Fatalf("init = %d %s", status, body)
	}
	c.Logs().Start(-1)
	status, body := post(t, c.URL()+"/run", map[string]any{"value": map[string]any{"x": 7}})
	var r struct{ PID, X int }
	if status != 200 || json.Unmarshal([]byte(body), &r) != nil || r.X != 7 {
		t.Fatalf("run = %d %s", status, body)
	}
	lines, complete := c.Logs().Collect(context.Background())
	if !complete || len(lines) != 1 || !strings.HasSuffix(lines[0], "stdout: hi") {
		t.Fatalf("logs = %q complete=%v", lines, complete)
	}

	if err := c.Pause(context.Background()); err != nil {
		t.Fatal(err)
	}
	// SIGSTOP is delivered asynchronously: the state follows shortly.
	waitState(t, r.PID, "the paused launcher to stop", func(st string) bool { return st == "T" })
	if err := c.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitState(t, r.PID, "the resumed launcher to run", func(st string) bool { return st != "T" && st != "gone" })

	if err := c.Pause(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.Destroy(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitState(t, r.PID, "the destroyed (paused) launcher to go", func(st string) bool { return st == "gone" || st == "Z" })
}

// waitState polls a process's state until ok accepts it, failing after 5 s.
func waitState(t *testing.T, pid int, what string, ok func(string) bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for st := procState(t, pid); !ok(st); st = procState(t, pid) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: process %d is in state %q", what, pid, st)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestNativeShellScript runs a native action that is a #!/bin/sh script
// speaking ActionLoop, as an executable upload (binary, base64).
func TestNativeShellScript(t *testing.T) {
	b, err := New(Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(context.Background())
	c, err := b.Create(context.Background(), invoker.Spec{Kind: "native", MemoryMB: 128, Action: "/ns/sh"})
	if err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\nwhile read -r line; do\n  echo \"got $line\"\n  echo \"{\\\"pid\\\": $$}\" >&3\ndone\n"
	code := base64.StdEncoding.EncodeToString([]byte(script))
	if status, body := post(t, c.URL()+"/init", map[string]any{"value": map[string]any{"code": code, "binary": true}}); status != 200 {
		t.Fatalf("init = %d %s", status, body)
	}
	var pids [2]int
	for i := range pids {
		c.Logs().Start(-1)
		status, body := post(t, c.URL()+"/run", map[string]any{"value": map[string]any{"i": i}})
		var r struct{ PID int }
		if status != 200 || json.Unmarshal([]byte(body), &r) != nil || r.PID == 0 {
			t.Fatalf("run %d = %d %s", i, status, body)
		}
		pids[i] = r.PID
		lines, complete := c.Logs().Collect(context.Background())
		if want := fmt.Sprintf(`stdout: got {"value":{"i":%d}}`, i); !complete || len(lines) != 1 || !strings.HasSuffix(lines[0], want) {
			t.Fatalf("logs = %q complete=%v, want one line ending %q", lines, complete, want)
		}
	}
	if pids[0] != pids[1] {
		t.Fatalf("the second activation ran in process %d, not %d", pids[1], pids[0])
	}
	if err := c.Destroy(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitState(t, pids[0], "the destroyed script to go", func(st string) bool { return st == "gone" || st == "Z" })
}

func TestUnsupportedKind(t *testing.T) {
	b, err := New(Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(context.Background())
	if _, err := b.Create(context.Background(), invoker.Spec{Kind: "blackbox", Image: "x"}); err == nil || !strings.Contains(err.Error(), "cannot run on the process backend") {
		t.Fatalf("err = %v", err)
	}
}
