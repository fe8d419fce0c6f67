package process

import (
	"bytes"
	"context"
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

func post(t *testing.T, url string, body any) (int, string) {
	t.Helper()
	b, _ := json.Marshal(body)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	resp, err := http.DefaultClient.Do(req)
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

func TestLifecycle(t *testing.T) {
	testenv.Node(t)
	b, err := New(Config{Dir: t.TempDir()}, slog.New(slog.NewTextHandler(io.Discard, nil)))
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
	if st := procState(t, r.PID); st != "T" {
		t.Fatalf("paused launcher is in state %q", st)
	}
	if err := c.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := procState(t, r.PID); st == "T" || st == "gone" {
		t.Fatalf("resumed launcher is in state %q", st)
	}
	if status, _ := post(t, c.URL()+"/run", map[string]any{"value": map[string]any{"x": 8}}); status != 200 {
		t.Fatalf("run after resume = %d", status)
	}

	if err := c.Pause(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.Destroy(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for procState(t, r.PID) != "gone" && procState(t, r.PID) != "Z" {
		if time.Now().After(deadline) {
			t.Fatalf("destroyed (paused) launcher %d still runs: %s", r.PID, procState(t, r.PID))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestUnsupportedKind(t *testing.T) {
	b, err := New(Config{Dir: t.TempDir()}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Create(context.Background(), invoker.Spec{Kind: "blackbox", Image: "x"}); err == nil || !strings.Contains(err.Error(), "cannot run on the process backend") {
		t.Fatalf("err = %v", err)
	}
}
