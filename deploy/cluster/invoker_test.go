package cluster_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wispio/wisp/internal/testenv"
)

// imageRuntimes are the kinds TestImage has image.sh build runtime images
// of (WISP_RUNTIMES), and invokerInImage runs an action of each.
const imageRuntimes = "nodejs:20 python:3 native"

// guestKey matches the guest namespace's key that wisp serve prints once.
var guestKey = regexp.MustCompile(`(?m)^([0-9a-f-]{36}:[0-9A-Za-z]+)$`)

// invokerInImage runs `wisp serve --invoker docker --docker-sockets` from
// the image as the compose invokers run it (root, the engine's socket
// mounted, the data folder at its host path), with nothing prepared but
// what image.sh built, and runs a nodejs:20, a python:3 and a native action
// through it: the invoker, which has no interpreters to build runtime images
// from, uses the ones image.sh built into the engine.
func invokerInImage(ctx context.Context, t *testing.T, tag string) {
	t.Helper()
	data := t.TempDir()
	id, err := docker(ctx, t, "run", "--detach", "--user", "0:0",
		"--volume", "/var/run/docker.sock:/var/run/docker.sock", "--volume", data+":"+data, "--publish", "127.0.0.1::3233",
		tag, "serve", "--addr", "0.0.0.0:3233", "--invoker", "docker", "--docker-sockets", "--data", data, "--stem-cells", "none")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// A stop lets wisp remove its action containers; rm then the rest.
		_, _ = docker(context.Background(), t, "stop", "--time", "30", id)
		if t.Failed() {
			logs, _ := exec.Command("docker", "logs", id).CombinedOutput()
			t.Logf("log of the invoker container:\n%s", logs)
		}
		_, _ = docker(context.Background(), t, "rm", "--force", "--volumes", id)
	})
	var logs string
	waitLog(ctx, t, id, func(l string) bool { logs = l; return strings.Contains(l, `msg="wisp is serving"`) })
	var unused []string
	for _, kind := range strings.Fields(imageRuntimes) {
		if !regexp.MustCompile(`msg="using (the|a) runtime image built [^"]*" kind=` + regexp.QuoteMeta(kind) + ` `).MatchString(logs) {
			unused = append(unused, kind)
		}
	}
	if len(unused) > 0 {
		t.Errorf("the invoker does not report using the images image.sh built of %v", unused)
	}
	m := guestKey.FindStringSubmatch(logs)
	if m == nil {
		t.Fatalf("no guest key in the log:\n%s", logs)
	}
	port, err := docker(ctx, t, "port", id, "3233/tcp")
	if err != nil {
		t.Fatal(err)
	}
	api := &wispAPI{base: "http://" + strings.TrimSpace(strings.Split(port, "\n")[0]), auth: m[1]}

	hello := filepath.Join(t.TempDir(), "hello")
	build := exec.CommandContext(ctx, "go", "build", "-o", hello, "./server/testdata/nativehello")
	build.Dir, build.Env = testenv.RepoRoot(t), append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build server/testdata/nativehello: %v\n%s", err, out)
	}
	exe, err := os.ReadFile(hello)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []struct {
		kind, code string
		binary     bool
		want       string
	}{
		{kind: "nodejs:20", code: `function main(p) { return {greeting: "hello " + p.name} }`, want: `"greeting":"hello nodejs:20"`},
		{kind: "python:3", code: "def main(args):\n    return {'greeting': 'hello ' + args['name']}\n", want: `"greeting":"hello python:3"`},
		{kind: "native", code: base64.StdEncoding.EncodeToString(exe), binary: true, want: `"greeting":"hello native"`},
	} {
		name := strings.NewReplacer(":", "", ".", "").Replace(a.kind)
		if code, body, err := api.call(ctx, http.MethodPut, "/actions/"+name, map[string]any{"exec": map[string]any{"kind": a.kind, "code": a.code, "binary": a.binary}}); err != nil || code != http.StatusOK {
			t.Fatalf("create the %s action: %d %s %v", a.kind, code, body, err)
		}
		code, body, err := api.call(ctx, http.MethodPost, "/actions/"+name+"?blocking=true&result=true", map[string]any{"name": a.kind})
		if err != nil || code != http.StatusOK || !strings.Contains(string(body), a.want) {
			t.Errorf("invoke the %s action: %d %s %v, want 200 with %s", a.kind, code, body, err, a.want)
		}
	}
}

// waitLog polls the container's log (stdout and stderr) until done holds
// for it or ctx ends.
func waitLog(ctx context.Context, t *testing.T, id string, done func(string) bool) {
	t.Helper()
	for {
		out, err := exec.CommandContext(ctx, "docker", "logs", id).CombinedOutput()
		if err == nil && done(string(out)) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for the log of %s: %v; the log:\n%s", id, ctx.Err(), out)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// wispAPI calls a Wisp's REST API as one namespace.
type wispAPI struct {
	base string
	auth string // uuid:key
}

func (a *wispAPI) call(ctx context.Context, method, path string, body any) (int, []byte, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, method, a.base+"/api/v1/namespaces/_"+path, bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	user, key, _ := strings.Cut(a.auth, ":")
	req.SetBasicAuth(user, key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}
