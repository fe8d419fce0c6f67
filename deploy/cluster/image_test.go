package cluster_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wispio/wisp/internal/testenv"
)

// docker runs the docker CLI and returns its trimmed output.
func docker(ctx context.Context, t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("docker %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

// helpFlag matches a flag line of cobra's help: "  -u, --auth KEY   ...".
var helpFlag = regexp.MustCompile(`^\s+(?:-\w, )?--([a-z0-9-]+)( [a-zA-Z]+)?\s{2,}`)

// helpFlags reads the local flags of a command's --help output, each with
// whether it takes a value.
func helpFlags(help string) map[string]bool {
	flags := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(help))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "Global Flags:") {
			break
		}
		if m := helpFlag.FindStringSubmatch(sc.Text()); m != nil && m[1] != "help" {
			flags[m[1]] = m[2] != ""
		}
	}
	return flags
}

// TestImage builds the image FROM scratch with deploy/cluster/image.sh (what
// `make image` runs) under a tag of its own, checks its configuration and
// that `wisp serve --help` in it defines the flags serveFlags reads from the
// source, then serves the API in it as uid 65534 on /data and probes it
// with `wisp probe`, the compose health check, and runs actions through
// its invoker on the Docker backend (invokerInImage). It removes the image.
func TestImage(t *testing.T) {
	testenv.Docker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	tag := "wisp-test/cluster-image:" + hex.EncodeToString(suffix)
	build := exec.CommandContext(ctx, "bash", filepath.Join(testenv.RepoRoot(t), "deploy", "cluster", "image.sh"), tag)
	build.Env = append(os.Environ(), "WISP_RUNTIMES="+imageRuntimes)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("image.sh %s: %v\n%s", tag, err, out)
	}
	t.Cleanup(func() {
		if out, err := docker(context.Background(), t, "rmi", "--force", tag); err != nil {
			t.Errorf("remove image: %v %s", err, out)
		}
	})

	out, err := docker(ctx, t, "image", "inspect", "--format", "{{json .Config}}", tag)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		User         string
		Entrypoint   []string
		ExposedPorts map[string]any
		Volumes      map[string]any
	}
	if err := json.Unmarshal([]byte(out), &cfg); err != nil {
		t.Fatalf("image config %s: %v", out, err)
	}
	if cfg.User != "65534:65534" || fmt.Sprint(cfg.Entrypoint) != "[/wisp]" || cfg.ExposedPorts["3233/tcp"] == nil || cfg.Volumes["/data"] == nil {
		t.Errorf("image config %s: want user 65534:65534, entrypoint /wisp, port 3233 and volume /data", out)
	}

	help, err := docker(ctx, t, "run", "--rm", tag, "serve", "--help")
	if err != nil {
		t.Fatal(err)
	}
	inImage, fromSource := helpFlags(help), serveFlags(t)
	for name, takesValue := range inImage {
		if v, ok := fromSource[name]; !ok || v != takesValue {
			t.Errorf("flag --%s (takes a value: %v) of wisp serve in the image: the source scan found %v, %v", name, takesValue, ok, v)
		}
	}
	for name := range fromSource {
		if _, ok := inImage[name]; !ok && !plannedFlags()[name] {
			t.Errorf("flag --%s: found in the source, not in wisp serve --help", name)
		}
	}

	serveInImage(ctx, t, tag)
	invokerInImage(ctx, t, tag)
}

// serveInImage runs `wisp serve` from the image as its default user and
// probes the API from inside the container once it reports serving.
func serveInImage(ctx context.Context, t *testing.T, tag string) {
	t.Helper()
	id, err := docker(ctx, t, "run", "--detach", tag, "serve", "--addr", "0.0.0.0:3233", "--invoker", "process", "--stem-cells", "none")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = docker(context.Background(), t, "rm", "--force", "--volumes", id) })

	logs := exec.CommandContext(ctx, "docker", "logs", "--follow", id)
	stderr, err := logs.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := logs.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = logs.Process.Kill(); _ = logs.Wait() }()
	sc := bufio.NewScanner(stderr)
	var seen []string
	for sc.Scan() && !strings.Contains(sc.Text(), `msg="wisp is serving"`) {
		seen = append(seen, sc.Text())
	}
	if sc.Err() != nil || ctx.Err() != nil || !strings.Contains(sc.Text(), "data=/data") {
		t.Fatalf("wisp serve in the image did not report serving on /data (%v, %v); its log:\n%s\n%s", sc.Err(), ctx.Err(), strings.Join(seen, "\n"), sc.Text())
	}
	if out, err := docker(ctx, t, "exec", id, "/wisp", "probe", "http://127.0.0.1:3233/api/v1"); err != nil {
		t.Errorf("probe the API: %v %s", err, out)
	}
	if out, err := docker(ctx, t, "exec", id, "/wisp", "probe", "http://127.0.0.1:3233/no-such-path"); err == nil || !strings.Contains(out, "status 404") {
		t.Errorf("probe of a missing path = %v %q, want a failure naming status 404", err, out)
	}
}
