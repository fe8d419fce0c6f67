package server

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	waitFor(t, "the container to be paused", func() bool {
		cs := srv.Invoker().Pool().Containers()
		return len(cs) == 1 && cs[0].Paused
	})
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

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
