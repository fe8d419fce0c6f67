package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"

	"github.com/wispio/wisp/internal/testenv"
	"github.com/wispio/wisp/invoker"
)

const testImage = "wisp-test/blackbox-action:latest"

// newBackend connects to the engine (skipping, or failing under
// WISP_REQUIRE_SERVICES=1, when there is none) and builds the test image.
func newBackend(t *testing.T) *Backend {
	t.Helper()
	testenv.Docker(t)
	ctx := context.Background()
	cfg := DefaultConfig("test-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")))
	cfg.PidsLimit = 16
	b, err := New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(context.Background()); err != nil {
			t.Errorf("close backend: %v", err)
		}
	})
	buildTestImage(t, b)
	return b
}

// buildTestImage compiles testdata/action statically and builds a
// FROM-scratch image of it through the engine API.
func buildTestImage(t *testing.T, b *Backend) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "action")
	cmd := exec.Command("go", "build", "-o", bin, "./testdata/action")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build test action: %v\n%s", err, out)
	}
	code, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	var ctxTar bytes.Buffer
	tw := tar.NewWriter(&ctxTar)
	for _, f := range []struct {
		name string
		mode int64
		data []byte
	}{
		{"Dockerfile", 0o644, []byte("FROM scratch\nCOPY action /action\nENTRYPOINT [\"/action\"]\n")},
		{"action", 0o755, code},
	} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	resp, err := b.Client().ImageBuild(context.Background(), &ctxTar, build.ImageBuildOptions{Tags: []string{testImage}, Remove: true, ForceRemove: true})
	if err != nil {
		t.Fatalf("build image: %v", err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if bytes.Contains(out, []byte(`"errorDetail"`)) {
		t.Fatalf("build image: %s", out)
	}
}

func post(t *testing.T, url string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func create(t *testing.T, b *Backend, memoryMB int) invoker.Container {
	t.Helper()
	c, err := b.Create(context.Background(), invoker.Spec{Kind: "blackbox", Image: testImage, MemoryMB: memoryMB, Action: "/test/action"})
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := post(t, c.URL()+"/init", map[string]any{"value": map[string]any{}}); status != 200 {
		t.Fatalf("init = %d", status)
	}
	return c
}

// TestLifecycle checks what is Docker's own in a container's life (its
// user, its logs from both streams, the cgroup freezer); the rest of it is
// TestBackendConformance's.
func TestLifecycle(t *testing.T) {
	b := newBackend(t)
	c := create(t, b, 128)
	c.Logs().Start(-1)
	status, out := post(t, c.URL()+"/run", map[string]any{"value": map[string]any{"log": "hello"}})
	if status != 200 || out["uid"] != float64(65534) {
		t.Fatalf("run = %d %v (want a non-root uid)", status, out)
	}
	lines, complete := c.Logs().Collect(context.Background())
	// The engine keeps each stream's order, not the order across streams.
	joined := strings.Join(lines, "\n")
	if !complete || len(lines) != 2 || !strings.Contains(joined, "stdout: hello") || !strings.Contains(joined, "stderr: err: hello") {
		t.Fatalf("logs = %q complete=%v", lines, complete)
	}

	dc := c.(*dockerContainer)
	// The logs came from the attached streams: the engine keeps none.
	info, err := b.api.ContainerInspect(context.Background(), dc.id)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.HostConfig.LogConfig.Type; got != "none" {
		t.Errorf("log driver %q, want none (the invoker reads the attached output)", got)
	}
	if err := c.Pause(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := b.freeze.state(dc.id); st != "FROZEN" && st != "1" {
		t.Fatalf("paused container's freezer state = %q", st)
	}
	if err := c.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := b.freeze.state(dc.id); st == "FROZEN" || st == "1" {
		t.Fatalf("resumed container's freezer state = %q", st)
	}
}

func TestLimits(t *testing.T) {
	b := newBackend(t)
	t.Run("memory", func(t *testing.T) {
		c := create(t, b, 128)
		defer c.Destroy(context.Background())
		if status, out := post(t, c.URL()+"/run", map[string]any{"value": map[string]any{"hogMB": 400}}); status == 200 {
			t.Fatalf("a 400 MB allocation in a 128 MB container succeeded: %v", out)
		}
	})
	t.Run("pids", func(t *testing.T) {
		c := create(t, b, 128)
		defer c.Destroy(context.Background())
		status, out := post(t, c.URL()+"/run", map[string]any{"value": map[string]any{"children": 100}})
		started, _ := out["started"].(float64)
		if status != 200 || started >= 16 || started < 1 {
			t.Fatalf("run = %d %v: want some children started and fewer than the pids limit of 16", status, out)
		}
	})
}

func TestOrphansRemovedAtStart(t *testing.T) {
	b := newBackend(t)
	create(t, b, 128)
	again, err := New(context.Background(), b.cfg, b.log)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close(context.Background())
	if n := countContainers(t, b); n != 0 {
		t.Fatalf("%d orphans left after a new backend started", n)
	}
}

func countContainers(t *testing.T, b *Backend) int {
	t.Helper()
	list, err := b.api.ContainerList(context.Background(), container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", labelOwner+"="+b.cfg.InvokerID))})
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

// TestNetworkCreatedOnce: the backend makes its network at start, a bridge
// with inter-container traffic off, and a second backend (a restart, or
// another invoker on the engine) uses the one that exists.
func TestNetworkCreatedOnce(t *testing.T) {
	testenv.Docker(t)
	ctx := context.Background()
	cfg := DefaultConfig("test-network")
	cfg.Network = "wisp-test-" + strings.ToLower(t.Name())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var backends []*Backend
	for range 2 {
		b, err := New(ctx, cfg, log)
		if err != nil {
			t.Fatal(err)
		}
		backends = append(backends, b)
	}
	t.Cleanup(func() {
		_ = backends[0].api.NetworkRemove(context.Background(), cfg.Network)
		for _, b := range backends {
			b.Close(context.Background())
		}
	})
	info, err := backends[0].api.NetworkInspect(ctx, cfg.Network, network.InspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Driver != "bridge" || info.Options[iccOption] != "false" {
		t.Fatalf("network %s: driver %s, options %v; want a bridge with %s=false", cfg.Network, info.Driver, info.Options, iccOption)
	}
	buildTestImage(t, backends[1])
	c := create(t, backends[1], 128)
	defer c.Destroy(ctx)
	got, err := backends[1].api.ContainerInspect(ctx, c.(*dockerContainer).id)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.NetworkSettings.Networks[cfg.Network]; !ok {
		t.Fatalf("the container is on %v, not %s", got.NetworkSettings.Networks, cfg.Network)
	}
}
