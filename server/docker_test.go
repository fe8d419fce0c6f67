package server

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	dclient "github.com/docker/docker/client"

	"github.com/wispio/wisp/actions"
	"github.com/wispio/wisp/client"
	"github.com/wispio/wisp/internal/testenv"
	"github.com/wispio/wisp/invoker"
)

var (
	wispOnce sync.Once
	wispBin  string
	wispErr  error
)

// wispBinary builds the wisp binary once per test run: the Docker backend
// puts it into the runtime images as the action proxy.
func wispBinary(t *testing.T) string {
	t.Helper()
	wispOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wisp-server-test-")
		if err != nil {
			wispErr = err
			return
		}
		wispBin = filepath.Join(dir, "wisp")
		if out, err := exec.Command("go", "build", "-o", wispBin, "github.com/wispio/wisp/cmd/wisp").CombinedOutput(); err != nil {
			wispErr = fmt.Errorf("build wisp: %v\n%s", err, out)
		}
	})
	if wispErr != nil {
		t.Fatal(wispErr)
	}
	return wispBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if wispBin != "" {
		os.RemoveAll(filepath.Dir(wispBin))
	}
	os.Exit(code)
}

// startDocker runs a whole server on the Docker backend.
func startDocker(t *testing.T, tweak func(*Config)) (*Server, *client.Client) {
	t.Helper()
	testenv.Docker(t)
	bin := wispBinary(t)
	return startServer(t, func(cfg *Config) {
		cfg.Invoker = BackendDocker
		cfg.ProxyBinary = bin
		if tweak != nil {
			tweak(cfg)
		}
	})
}

// engineContainers lists the IDs of the containers the engine holds for
// srv's invoker, running or not.
func engineContainers(t *testing.T, srv *Server) []string {
	t.Helper()
	api, err := dclient.NewClientWithOpts(dclient.FromEnv, dclient.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	list, err := api.ContainerList(context.Background(), container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", "wisp.invoker="+srv.InvokerID()))})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, len(list))
	for _, c := range list {
		ids = append(ids, c.ID[:12])
	}
	return ids
}

// TestDockerBackend runs a Node.js action through the whole server on the
// Docker backend: the runtime image is built from this machine's node and a
// fresh wisp binary; cold, warm, paused (frozen) and resumed.
func TestDockerBackend(t *testing.T) {
	srv, c := startDocker(t, func(cfg *Config) { cfg.Pool.PauseGrace = 5 * time.Millisecond })
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
	wisp, hello := wispBinary(t), filepath.Join(dir, "hello")
	build := exec.Command("go", "build", "-o", hello, "./testdata/nativehello")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build testdata/nativehello: %v\n%s", err, out)
	}
	srv, c := startServer(t, func(cfg *Config) {
		cfg.Invoker = BackendDocker
		cfg.ProxyBinary = wisp
		cfg.Pool.PauseGrace = 5 * time.Millisecond
		cfg.Pool.StemCells = nil
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

// TestDockerStemCellHit: a cold start of an action matching a stem cell's
// kind and memory runs in that prewarmed container, and the pool refills.
func TestDockerStemCellHit(t *testing.T) {
	srv, c := startDocker(t, func(cfg *Config) {
		cfg.Pool.StemCells = []invoker.StemCell{{Kind: "nodejs:20", MemoryMB: 256, Count: 1}}
	})
	waitWithin(t, containerWait, "the stem cell", func() bool { return srv.Invoker().Pool().Stats().StemCells == 1 })
	stems := engineContainers(t, srv)
	if len(stems) != 1 {
		t.Fatalf("containers with one stem cell: %v", stems)
	}
	createAction(t, c, "hello", "nodejs:20", `function main() { return {ok: true} }`, nil)
	act := invoke(t, c, "hello", nil)
	if _, ok := annotation(act, "initTime"); !ok || !act.Response.Success {
		t.Fatalf("activation = %+v", act)
	}
	cs := srv.Invoker().Pool().Containers()
	if len(cs) != 1 || cs[0].ID != stems[0] {
		t.Fatalf("the action runs in %+v, not in the stem cell %s", cs, stems[0])
	}
	waitWithin(t, containerWait, "the stem cell refilled", func() bool { return srv.Invoker().Pool().Stats().StemCells == 1 })
}

// TestDockerFaults: each failure gives a clear activation error and leaves
// no container behind.
func TestDockerFaults(t *testing.T) {
	testenv.Python(t)
	srv, c := startDocker(t, func(cfg *Config) { cfg.Pool.StemCells = nil })
	memory := 256
	tests := []struct {
		name, kind, code, image string
		timeout                 int // ms; default 30 s, as a cold start on a loaded machine can take seconds
		params                  map[string]any
		want                    string // in the result
		check                   func(t *testing.T, act *client.Activation)
	}{
		{
			name: "timeout", kind: "nodejs:20", timeout: 1000,
			code: `async function main() { await new Promise(r => setTimeout(r, 60000)); return {} }`,
			want: "exceeded its time limits of 1000 milliseconds",
			check: func(t *testing.T, act *client.Activation) {
				if v, _ := annotation(act, "timeout"); string(v) != "true" {
					t.Errorf("timeout annotation = %s", v)
				}
			},
		},
		{
			name: "init failure", kind: "nodejs:20", code: `function main( {`,
			want: "Initialization has failed",
		},
		{
			name: "missing blackbox image", kind: "blackbox", image: "wisp-test/no-such-image:1",
			want: `container image \"wisp-test/no-such-image:1\" does not exist`,
		},
		{
			name: "result over the size limit", kind: "nodejs:20",
			code: `function main() { return {big: "x".repeat(2 << 20)} }`,
			want: "exceeded the allowed length",
		},
		{
			name: "exit", kind: "python:3", code: "import os\ndef main(a):\n    os._exit(3)\n",
			want: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := strings.ReplaceAll(tt.name, " ", "-")
			timeout := cmp.Or(tt.timeout, 30000)
			_, _, err := c.PutAction(context.Background(), &client.Action{
				Name:   name,
				Exec:   &client.Exec{Kind: tt.kind, Code: tt.code, Image: tt.image},
				Limits: &client.Limits{Timeout: &timeout, Memory: &memory},
			}, true)
			if err != nil {
				t.Fatal(err)
			}
			act := invoke(t, c, name, tt.params)
			if act.Response.Success || act.Response.Status != "action developer error" {
				t.Fatalf("activation = %+v %s", act.Response, mustJSON(act.Response.Result))
			}
			if got := string(mustJSON(act.Response.Result)); !strings.Contains(got, tt.want) {
				t.Fatalf("result = %s, want it to contain %s", got, tt.want)
			}
			if tt.check != nil {
				tt.check(t, act)
			}
			waitFor(t, "the failed container to go", func() bool {
				return len(srv.Invoker().Pool().Containers()) == 0 && len(engineContainers(t, srv)) == 0
			})
		})
	}
}

// TestDockerLimits: a fork bomb stops at the pids limit; concurrent
// activations of an action that allows it share one container.
func TestDockerLimits(t *testing.T) {
	testenv.Python(t)
	srv, c := startDocker(t, func(cfg *Config) { cfg.Pool.StemCells = nil })
	createAction(t, c, "forks", "python:3", `import os, time
def main(args):
    n, err = 0, ""
    try:
        while n < 1000:
            if os.fork() == 0:
                time.sleep(2)
                os._exit(0)
            n += 1
    except OSError as e:
        err = e.strerror
    return {"forked": n, "error": err}
`, nil)
	act := invoke(t, c, "forks", nil)
	var r struct {
		Forked int    `json:"forked"`
		Error  string `json:"error"`
	}
	// The pids limit stops the bomb: main sees fork fail (EAGAIN), or the
	// runtime itself cannot make a thread and the activation fails; never
	// a hang until the timeout, and the next activation runs.
	result := string(mustJSON(act.Response.Result))
	_ = json.Unmarshal(mustJSON(act.Response.Result), &r)
	switch {
	case act.Response.Success && (r.Forked >= 128 || r.Error == ""):
		t.Fatalf("the fork bomb made %d processes (error %q): the pids limit did not hold", r.Forked, r.Error)
	case strings.Contains(result, "exceeded its time limits"):
		t.Fatalf("the fork bomb ran into its timeout: %s", result)
	case !act.Response.Success && !strings.Contains(result, "Resource temporarily unavailable") && !strings.Contains(result, "exited unexpectedly"):
		t.Fatalf("fork bomb activation = %+v %s", act.Response, result)
	}
	createAction(t, c, "after-forks", "python:3", "def main(a):\n    return {'ok': True}\n", nil)
	if after := invoke(t, c, "after-forks", nil); !after.Response.Success {
		t.Fatalf("an activation after the fork bomb = %+v", after.Response)
	}

	concurrency := 4
	_, _, err := c.PutAction(context.Background(), &client.Action{
		Name:   "shared",
		Exec:   &client.Exec{Kind: "nodejs:20", Code: `async function main() { await new Promise(r => setTimeout(r, 300)); return {pid: process.pid} }`},
		Limits: &client.Limits{Concurrency: &concurrency},
	}, true)
	if err != nil {
		t.Fatal(err)
	}
	invoke(t, c, "shared", nil) // a warm container first
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if act := invoke(t, c, "shared", nil); !act.Response.Success {
				t.Errorf("concurrent activation = %+v", act.Response)
			}
		}()
	}
	wg.Wait()
	n := 0
	for _, ci := range srv.Invoker().Pool().Containers() {
		if strings.Contains(ci.Key, "/shared@") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d containers served the concurrent action, want 1", n)
	}

	// An action without network runs on a socket (even in port mode),
	// cut off from the net: it sees only the loopback interface.
	_, _, err = c.PutAction(context.Background(), &client.Action{
		Name:        "offline",
		Exec:        &client.Exec{Kind: "nodejs:20", Code: `const os = require('os'); function main() { return {ifaces: Object.keys(os.networkInterfaces())} }`},
		Annotations: []client.KeyValue{{Key: "network", Value: false}},
	}, true)
	if err != nil {
		t.Fatal(err)
	}
	offline := invoke(t, c, "offline", nil)
	if got := string(mustJSON(offline.Response.Result)); !offline.Response.Success || got != `{"ifaces":["lo"]}` {
		t.Fatalf("offline activation = %+v %s", offline.Response, got)
	}

}

// TestDockerdRestart: a restart of dockerd stops every container; the
// server notices (event stream + reconcile) and the next activation runs
// in a fresh container instead of failing. It restarts the engine, so
// scripts/test.sh runs it alone, after everything else, and only when it
// started dockerd itself (WISP_TEST_DOCKERD_RESTART=1).
func TestDockerdRestart(t *testing.T) {
	if os.Getenv("WISP_TEST_DOCKERD_RESTART") != "1" {
		t.Skip("restarts dockerd: run by scripts/test.sh on its own (WISP_TEST_DOCKERD_RESTART=1)")
	}
	srv, c := startDocker(t, func(cfg *Config) { cfg.Pool.PauseGrace = 5 * time.Millisecond })
	createAction(t, c, "hello", "nodejs:20", `function main() { return {pid: process.pid} }`, nil)
	if act := invoke(t, c, "hello", nil); !act.Response.Success {
		t.Fatalf("before the restart: %+v", act.Response)
	}
	waitPaused(t, srv)
	restartDockerd(t)
	for i := range 3 {
		act := invoke(t, c, "hello", nil)
		if !act.Response.Success {
			t.Fatalf("activation %d after the restart: %+v %s", i, act.Response, mustJSON(act.Response.Result))
		}
		if _, cold := annotation(act, "initTime"); cold != (i == 0) {
			t.Fatalf("activation %d after the restart: cold = %v", i, cold)
		}
	}
}

// restartDockerd stops dockerd (SIGTERM, as a service manager would) and
// starts it again in its own session, logging to $TMPDIR/wisp-dockerd.log.
func restartDockerd(t *testing.T) {
	t.Helper()
	if out, err := exec.Command("pkill", "-x", "dockerd").CombinedOutput(); err != nil {
		t.Fatalf("pkill dockerd: %v %s", err, out)
	}
	poll := func(what string, cond func() bool) {
		for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	poll("dockerd to stop", func() bool { return exec.Command("pgrep", "-x", "dockerd").Run() != nil })
	logf, err := os.OpenFile(filepath.Join(os.TempDir(), "wisp-dockerd.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command("dockerd")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dockerd: %v", err)
	}
	_ = cmd.Process.Release()
	poll("dockerd to answer", func() bool { return exec.Command("docker", "version").Run() == nil })
}

// TestDockerSockets: with DockerSockets the runtime containers are reached
// on unix sockets (no published port) through cold, warm and paused.
func TestDockerSockets(t *testing.T) {
	srv, c := startDocker(t, func(cfg *Config) {
		cfg.DockerSockets = true
		cfg.Pool.PauseGrace = 5 * time.Millisecond
		cfg.Pool.StemCells = []invoker.StemCell{{Kind: "nodejs:20", MemoryMB: 256, Count: 1}}
	})
	createAction(t, c, "hello", "nodejs:20", `function main(p) { console.log("via socket"); return {ok: true} }`, nil)
	for i := range 3 {
		act := invoke(t, c, "hello", nil)
		if !act.Response.Success || len(act.Logs) != 1 || !strings.HasSuffix(act.Logs[0], "via socket") {
			t.Fatalf("activation %d = %+v, logs %q", i, act.Response, act.Logs)
		}
		waitFor(t, "the container to be paused", func() bool {
			cs := srv.Invoker().Pool().Containers()
			return len(cs) == 1 && cs[0].Paused
		})
	}
	cs := srv.Invoker().Pool().Containers()
	if !strings.HasSuffix(cs[0].URL, ".unix-socket") {
		t.Fatalf("container URL %s is not a unix socket", cs[0].URL)
	}
	api, err := dclient.NewClientWithOpts(dclient.FromEnv, dclient.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	info, err := api.ContainerInspect(context.Background(), cs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.NetworkSettings.Ports) != 0 {
		t.Fatalf("a socket-mode container publishes ports: %v", info.NetworkSettings.Ports)
	}
}
