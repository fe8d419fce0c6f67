package docker

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/wispio/wisp/actions/images"
	"github.com/wispio/wisp/internal/testenv"
	"github.com/wispio/wisp/invoker"
	"github.com/wispio/wisp/invoker/backendtest"
)

// TestBackendConformance runs the invoker.Backend suite on the engine,
// with the test's blackbox image and with the native runtime image (a
// static ActionLoop binary in it), whose proxy requires the container's
// secret.
func TestBackendConformance(t *testing.T) {
	remaining := func(t *testing.T, b invoker.Backend) int { return countContainers(t, b.(*Backend)) }
	t.Run("blackbox", func(t *testing.T) {
		backendtest.Run(t, backendtest.Config{
			New:       func(t *testing.T) invoker.Backend { return newBackend(t) },
			Spec:      invoker.Spec{Kind: "blackbox", Image: testImage, MemoryMB: 128, Action: "/test/conformance"},
			Init:      map[string]any{},
			Run:       map[string]any{"log": "hello"},
			Remaining: remaining,
		})
	})
	t.Run("native", func(t *testing.T) {
		cfg := nativeConfig(t)
		loop := buildStatic(t, "./testdata/loop")
		backendtest.Run(t, backendtest.Config{
			New: func(t *testing.T) invoker.Backend {
				cfg.InvokerID = "test-conformance-native"
				b, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
				if err != nil {
					t.Fatal(err)
				}
				return b
			},
			Spec:      invoker.Spec{Kind: "native", MemoryMB: 128, Action: "/test/conformance"},
			Init:      map[string]any{"code": base64.StdEncoding.EncodeToString(loop), "binary": true},
			Run:       map[string]any{"x": 1},
			Remaining: remaining,
		})
	})
}

// nativeConfig builds the native runtime image from a freshly built wisp
// binary (Ensure skips an image that is up to date) and returns a
// configuration that runs the native kind in it.
func nativeConfig(t *testing.T) Config {
	t.Helper()
	testenv.Docker(t)
	rt, ok := images.NativeRuntime("native", "wisp-test/action-native", "/bin/sh")
	testenv.Require(t, "a dynamically linked /bin/sh", ok, "ldd /bin/sh shows no C library")
	wisp := filepath.Join(t.TempDir(), "wisp")
	if out, err := exec.Command("go", "build", "-o", wisp, "github.com/wispio/wisp/cmd/wisp").CombinedOutput(); err != nil {
		t.Fatalf("build wisp: %v\n%s", err, out)
	}
	cfg := DefaultConfig("test-conformance-native")
	b, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(context.Background())
	if err := images.Ensure(t.Context(), b.Client(), rt, wisp); err != nil {
		t.Fatalf("build the native image: %v", err)
	}
	cfg.Images[rt.Kind] = rt.Image
	return cfg
}

// buildStatic compiles the Go program at pkg statically and returns it.
func buildStatic(t *testing.T, pkg string) []byte {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bin")
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, out)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
