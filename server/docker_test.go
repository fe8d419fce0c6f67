package server

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wispio/wisp/actions"
	"github.com/wispio/wisp/client"
	"github.com/wispio/wisp/internal/testenv"
)

// TestDockerBackend runs a Node.js action through the whole server on the
// Docker backend: the runtime image is built from this machine's node and a
// fresh wisp binary; cold, warm, paused (frozen) and resumed.
func TestDockerBackend(t *testing.T) {
	testenv.Docker(t)
	wisp := filepath.Join(t.TempDir(), "wisp")
	if out, err := exec.Command("go", "build", "-o", wisp, "github.com/wispio/wisp/cmd/wisp").CombinedOutput(); err != nil {
		t.Fatalf("build wisp: %v\n%s", err, out)
	}
	srv, c := startServer(t, func(cfg *Config) {
		cfg.Invoker = BackendDocker
		cfg.ProxyBinary = wisp
		cfg.Pool.PauseGrace = 5 * time.Millisecond
	})
	createAction(t, c, "hello", "nodejs:default", `function main(p) { console.log("hi", p.name); return {greeting: "hello " + p.name, uid: process.getuid()} }`, nil)
	cold := invoke(t, c, "hello", map[string]any{"name": "docker"})
	if !cold.Response.Success || !strings.Contains(string(mustJSON(cold.Response.Result)), `"uid":65534`) {
		t.Fatalf("cold activation = %+v %s", cold.Response, mustJSON(cold.Response.Result))
	}
	if _, ok := annotation(cold, "initTime"); !ok {
		t.Fatal("the cold activation has no initTime")
	}
	if len(cold.Logs) != 1 || !strings.HasSuffix(cold.Logs[0], "stdout: hi docker") {
		t.Fatalf("logs = %q", cold.Logs)
	}
	waitPaused(t, srv)
	warm := invoke(t, c, "hello", map[string]any{"name": "again"})
	if _, ok := annotation(warm, "initTime"); ok || !warm.Response.Success {
		t.Fatalf("the activation after a pause was not a warm one: %+v", warm)
	}

	// A memory hog is killed by the container's limit: a developer error,
	// and the next activation gets a fresh container. The proxy notices the
	// killed launcher at once; the short timeout only bounds a regression.
	memory, timeout := 128, 5000
	createAction(t, c, "hog", "nodejs:20", `function main(p) { if (!p.hog) return {ok: true}; const a = []; for (;;) a.push(Buffer.alloc(1 << 20, 1)) }`, &client.Limits{Memory: &memory, Timeout: &timeout})
	killed := invoke(t, c, "hog", map[string]any{"hog": true})
	if killed.Response.Success || killed.Response.Status != "action developer error" {
		t.Fatalf("memory hog activation = %+v %s", killed.Response, mustJSON(killed.Response.Result))
	}
	after := invoke(t, c, "hog", nil)
	if _, ok := annotation(after, "initTime"); !ok || !after.Response.Success {
		t.Fatalf("the activation after an OOM kill did not get a fresh container: %+v", after)
	}
}

// TestDockerNative runs native actions through the whole server on the
// Docker backend, in the native image (the wisp binary and the host's C
// library, FROM scratch): a static Go program, cold then warm in the same
// process, and a dynamically linked C program.
func TestDockerNative(t *testing.T) {
	testenv.Docker(t)
	dir := t.TempDir()
	wisp, hello := filepath.Join(dir, "wisp"), filepath.Join(dir, "hello")
	if out, err := exec.Command("go", "build", "-o", wisp, "github.com/wispio/wisp/cmd/wisp").CombinedOutput(); err != nil {
		t.Fatalf("build wisp: %v\n%s", err, out)
	}
	build := exec.Command("go", "build", "-o", hello, "./testdata/nativehello")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build testdata/nativehello: %v\n%s", err, out)
	}
	srv, c := startServer(t, func(cfg *Config) {
		cfg.Invoker = BackendDocker
		cfg.ProxyBinary = wisp
		cfg.Pool.PauseGrace = 5 * time.Millisecond
		// Build only the native image: the other kinds have none here.
		native, _ := actions.DefaultKinds().Get("native")
		cfg.API.Kinds = actions.NewKinds([]actions.Runtime{{Kind: "nodejs:20", Default: true}, {Kind: "python:3", Default: true}, native})
	})
	exe, err := os.ReadFile(hello)
	if err != nil {
		t.Fatal(err)
	}
	createNative(t, c, "hello", exe)
	cold := invoke(t, c, "hello", map[string]any{"name": "docker"})
	if !cold.Response.Success || !strings.Contains(string(mustJSON(cold.Response.Result)), `"greeting":"hello docker"`) ||
		!strings.Contains(string(mustJSON(cold.Response.Result)), `"uid":65534`) {
		t.Fatalf("cold activation = %+v %s", cold.Response, mustJSON(cold.Response.Result))
	}
	if len(cold.Logs) != 1 || !strings.HasSuffix(cold.Logs[0], "stdout: hi docker") {
		t.Fatalf("logs = %q", cold.Logs)
	}
	waitPaused(t, srv)
	warm := invoke(t, c, "hello", map[string]any{"name": "again"})
	var r1, r2 struct{ PID int }
	_ = json.Unmarshal(cold.Response.Result, &r1)
	_ = json.Unmarshal(warm.Response.Result, &r2)
	if _, ok := annotation(warm, "initTime"); ok || !warm.Response.Success || r1.PID != r2.PID {
		t.Fatalf("the activation after a pause was not a warm one in process %d: %+v %s", r1.PID, warm.Response, mustJSON(warm.Response.Result))
	}

	t.Run("dynamically linked C", func(t *testing.T) {
		cc, err := exec.LookPath("cc")
		testenv.Require(t, "cc", err == nil, "no C compiler on PATH; apt-get install gcc")
		src := filepath.Join(dir, "loop.c")
		loop := `#include <stdio.h>
#include <string.h>
int main(void) {
	FILE *results = fdopen(3, "w");
	char line[1 << 16];
	while (fgets(line, sizeof line, stdin)) {
		printf("read %zu bytes\n", strlen(line));
		fflush(stdout);
		fputs("{\"lang\": \"c\"}\n", results);
		fflush(results);
	}
	return 0;
}
`
		if err := os.WriteFile(src, []byte(loop), 0o644); err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(dir, "loop")
		if out, err := exec.Command(cc, "-O2", "-o", bin, src).CombinedOutput(); err != nil {
			t.Fatalf("cc: %v\n%s", err, out)
		}
		exe, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		createNative(t, c, "c", exe)
		act := invoke(t, c, "c", nil)
		if !act.Response.Success || string(mustJSON(act.Response.Result)) != `{"lang":"c"}` {
			t.Fatalf("C activation = %+v %s", act.Response, mustJSON(act.Response.Result))
		}
		if len(act.Logs) != 1 || !strings.Contains(act.Logs[0], "stdout: read ") {
			t.Fatalf("logs = %q", act.Logs)
		}
	})
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
