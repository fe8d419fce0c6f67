package images_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wispio/wisp/actions/images"
	"github.com/wispio/wisp/actions/proxy"
	"github.com/wispio/wisp/internal/testenv"
	"github.com/wispio/wisp/invoker"
	"github.com/wispio/wisp/invoker/docker"
)

// post sends body to path of c with the container's secret, which its
// proxy requires.
func post(t *testing.T, c invoker.Container, path string, body any) (int, string) {
	t.Helper()
	b, _ := json.Marshal(body)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, c.URL()+path, bytes.NewReader(b))
	if sc, ok := c.(interface{ Secret() string }); ok {
		req.Header.Set(proxy.SecretHeader, sc.Secret())
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post %s: %v", path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// TestNodeRuntimeImage builds the nodejs:20 image from this machine's node
// and a freshly built wisp binary, then runs an action in it under the
// Docker backend's isolation.
func TestNodeRuntimeImage(t *testing.T) {
	testenv.Docker(t)
	testenv.Node(t)
	wisp := filepath.Join(t.TempDir(), "wisp")
	if out, err := exec.Command("go", "build", "-o", wisp, "github.com/wispio/wisp/cmd/wisp").CombinedOutput(); err != nil {
		t.Fatalf("build wisp: %v\n%s", err, out)
	}
	ctx := context.Background()
	cfg := docker.DefaultConfig("test-images")
	cfg.Images["nodejs:20"] = "wisp-test/action-nodejs-v20"
	b, err := docker.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(ctx)
	rt := images.Runtime{Kind: "nodejs:20", Image: cfg.Images["nodejs:20"], Proxy: "nodejs", Interpreter: "node"}
	if err := images.Ensure(ctx, b.Client(), rt, wisp); err != nil {
		t.Fatal(err)
	}
	c, err := b.Create(ctx, invoker.Spec{Kind: "nodejs:20", MemoryMB: 256, Action: "/test/node"})
	if err != nil {
		t.Fatal(err)
	}
	code := `function main(p) { console.log("in a container"); return {sum: p.a + p.b, uid: process.getuid()} }`
	if status, body := post(t, c, "/init", map[string]any{"value": map[string]any{"main": "main", "code": code}}); status != 200 {
		t.Fatalf("init = %d %s", status, body)
	}
	c.Logs().Start(-1)
	status, body := post(t, c, "/run", map[string]any{"value": map[string]any{"a": 2, "b": 40}})
	if status != 200 || body != `{"sum":42,"uid":65534}` {
		t.Fatalf("run = %d %s", status, body)
	}
	if lines, complete := c.Logs().Collect(ctx); !complete || len(lines) != 1 {
		t.Fatalf("logs = %q complete=%v", lines, complete)
	}
	if err := images.Ensure(ctx, b.Client(), rt, wisp); err != nil {
		t.Fatalf("second Ensure (no rebuild): %v", err)
	}
}

// TestPythonRuntimeImage builds python:3 from the system interpreter and its
// standard library and runs an action in it.
func TestPythonRuntimeImage(t *testing.T) {
	testenv.Docker(t)
	rt, ok := images.PythonRuntime("python:3", "wisp-test/action-python-v3", "/usr/bin/python3")
	testenv.Require(t, "python3", ok, "/usr/bin/python3 is missing; apt-get install python3")
	wisp := filepath.Join(t.TempDir(), "wisp")
	if out, err := exec.Command("go", "build", "-o", wisp, "github.com/wispio/wisp/cmd/wisp").CombinedOutput(); err != nil {
		t.Fatalf("build wisp: %v\n%s", err, out)
	}
	ctx := context.Background()
	cfg := docker.DefaultConfig("test-images-py")
	cfg.Images[rt.Kind] = rt.Image
	b, err := docker.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(ctx)
	if err := images.Ensure(ctx, b.Client(), rt, wisp); err != nil {
		t.Fatal(err)
	}
	c, err := b.Create(ctx, invoker.Spec{Kind: rt.Kind, MemoryMB: 256, Action: "/test/py"})
	if err != nil {
		t.Fatal(err)
	}
	code := "import json, os\ndef main(a):\n    print('in python')\n    return {'sum': a['a'] + a['b'], 'uid': os.getuid()}\n"
	if status, body := post(t, c, "/init", map[string]any{"value": map[string]any{"main": "main", "code": code}}); status != 200 {
		t.Fatalf("init = %d %s", status, body)
	}
	c.Logs().Start(-1)
	status, body := post(t, c, "/run", map[string]any{"value": map[string]any{"a": 2, "b": 40}})
	if status != 200 || (body != `{"sum": 42, "uid": 65534}` && body != `{"sum":42,"uid":65534}`) {
		t.Fatalf("run = %d %s", status, body)
	}
	if lines, complete := c.Logs().Collect(ctx); !complete || len(lines) != 1 {
		t.Fatalf("logs = %q complete=%v", lines, complete)
	}
}

// TestNativeRuntime checks that the native image gets the host's dynamic
// loader and C library, and no interpreter.
func TestNativeRuntime(t *testing.T) {
	rt, ok := images.NativeRuntime("native", "wisp-test/action-native", "/bin/sh")
	testenv.Require(t, "a dynamically linked /bin/sh", ok, "ldd /bin/sh shows no C library")
	var loader, libc bool
	for _, f := range rt.Files {
		base := filepath.Base(f)
		loader = loader || strings.HasPrefix(base, "ld-")
		libc = libc || strings.HasPrefix(base, "libc.")
	}
	if !loader || !libc || rt.Interpreter != "" || rt.Proxy != "native" {
		t.Fatalf("native runtime = %+v, want the loader and libc and no interpreter", rt)
	}
	if _, ok := images.NativeRuntime("native", "x", "/nonexistent/sh"); ok {
		t.Fatal("NativeRuntime found a C library without a shell")
	}
}
