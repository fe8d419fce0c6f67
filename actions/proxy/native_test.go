package proxy

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// nativeLoopBinary builds testdata/nativeloop once, statically, and returns
// the executable's bytes.
var nativeLoopBinary = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "nativeloop")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "exec")
	cmd := exec.Command("go", "build", "-o", out, "./testdata/nativeloop")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build testdata/nativeloop: %w\n%s", err, b)
	}
	return os.ReadFile(out)
})

func nativeLoop(tb testing.TB) []byte {
	tb.Helper()
	b, err := nativeLoopBinary()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// binaryCode is an /init value uploading data as base64 binary code.
func binaryCode(data []byte) map[string]any {
	return map[string]any{"binary": true, "code": base64.StdEncoding.EncodeToString(data)}
}

const shellLoop = "#!/bin/sh\nwhile read -r line; do\n  echo \"got $line\"\n  echo '{\"shell\": true}' >&3\ndone\n"

func TestNativeProtocol(t *testing.T) {
	loop := binaryCode(nativeLoop(t))
	zipped := map[string]any{"binary": true, "code": zipCode(t, map[string]string{"exec": string(nativeLoop(t)), "data/x.txt": "x"})}
	ack := func(m map[string]any, env map[string]any) map[string]any {
		e := map[string]any{"OW_WAIT_FOR_ACK": "1"}
		for k, v := range env {
			e[k] = v
		}
		return with(m, "env", e)
	}
	notStarted := errorBody("no action defined yet")
	cases := []struct {
		name  string
		steps []step
	}{
		{"binary", []step{
			initStep(loop, 200, okJSON),
			{path: "/run", body: map[string]any{"value": map[string]any{"name": "Ada"}}, status: 200, contains: `"echo":{"name":"Ada"}`}}},
		{"zip with exec", []step{
			initStep(zipped, 200, okJSON),
			{path: "/run", body: map[string]any{"value": map[string]any{"name": "Bo"}}, status: 200, contains: `"echo":{"name":"Bo"}`}}},
		{"init env and ack", []step{
			initStep(ack(loop, map[string]any{"GREETING": "hello"}), 200, okJSON),
			{path: "/run", body: map[string]any{"value": map[string]any{}}, status: 200, contains: `"greeting":"hello"`}}},
		{"shell script", []step{
			initStep(code(shellLoop), 200, okJSON),
			runStep(map[string]any{}, 200, `{"shell":true}`),
			runStep(map[string]any{}, 200, `{"shell":true}`)}},
		{"array result", []step{
			initStep(code("#!/bin/sh\nwhile read -r l; do echo '[1, 2]' >&3; done\n"), 200, okJSON),
			runStep(nil, 200, `[1,2]`)}},
		{"result not an object", []step{
			initStep(loop, 200, okJSON),
			runStep(map[string]any{"mode": "notobject"}, 502, errorBody("The action did not return a dictionary or array.")),
			{path: "/run", body: map[string]any{"value": map[string]any{"name": "again"}}, status: 200, contains: `"echo":{"name":"again"}`}}},
		{"dies mid-run", []step{
			initStep(loop, 200, okJSON),
			runStep(map[string]any{"mode": "die"}, 502, errorBody(msgAbnormalRun)),
			runStep(map[string]any{}, 502, errorBody(msgAbnormalRun))}},
		{"exits before its ack", []step{
			initStep(ack(loop, map[string]any{"NATIVELOOP_EXIT": "1"}), 502, errorBody("Cannot start action. Check logs for details.")),
			runStep(nil, 500, notStarted)}},
		{"bad ack", []step{
			initStep(ack(loop, map[string]any{"NATIVELOOP_ACK": `{"ok":false}`}), 502,
				errorBody(`Cannot start action: The action did not initialize properly: it acknowledged with {"ok":false} rather than {"ok":true}.`))}},
		{"garbage bytes", []step{
			initStep(binaryCode([]byte("\x00\x01garbage\xff")), 502, errorBody(fmt.Sprintf(
				"Cannot start action: exec is neither an executable for %s/%s nor a script starting with #! (exec format error)", runtime.GOOS, runtime.GOARCH))),
			runStep(nil, 500, notStarted),
			initStep(loop, 403, errorBody(msgReinit))}},
		{"script without #!", []step{
			{path: "/init", body: map[string]any{"value": binaryCode([]byte("echo hi\n"))}, status: 502, contains: "exec format error"}}},
		{"missing interpreter", []step{
			{path: "/init", body: map[string]any{"value": code("#!/nonexistent/sh\n")}, status: 502, contains: "needs an interpreter"}}},
		{"zip without exec", []step{
			initStep(code(zipCode(t, map[string]string{"main": "x"})), 502, errorBody("Cannot start action: the zip has no file named exec at its root")),
			runStep(nil, 500, notStarted)}},
		{"zip with an exec folder", []step{
			initStep(code(zipCode(t, map[string]string{"exec/main": "x"})), 502, errorBody("Cannot start action: the zip has no file named exec at its root"))}},
		{"bad zip", []step{
			initStep(map[string]any{"binary": true, "code": "UEsDBA=="}, 502, errorBody("The action failed to generate or locate a binary. See logs for details."))}},
		{"bad base64", []step{
			{path: "/init", body: map[string]any{"value": map[string]any{"binary": true, "code": "%%%"}}, status: 400, contains: "cannot decode the request"},
			initStep(loop, 200, okJSON)}},
		{"run before init", []step{runStep(nil, 500, notStarted)}},
	}
	runScenarios(t, RuntimeNative, cases)
}

// TestNativeActivations checks that activations reuse one process, one at a
// time, and that each answer comes after the executable's logs and the
// sentinels the proxy appends.
func TestNativeActivations(t *testing.T) {
	ts := newTestServer(t, RuntimeNative)
	ts.mustInit(t, binaryCode(nativeLoop(t)))
	pid := ts.Pid()
	if pid == 0 {
		t.Fatal("Pid() = 0 after init")
	}
	for i := 1; i <= 3; i++ {
		status, body := ts.post(t, "/run", map[string]any{"value": map[string]any{"name": fmt.Sprint(i)}, "activation_id": "a"})
		var res struct {
			Echo struct{ Name string }
			Pid  int
		}
		if status != http.StatusOK || json.Unmarshal([]byte(body), &res) != nil || res.Echo.Name != fmt.Sprint(i) {
			t.Fatalf("run %d: %d %s\nstderr:\n%s", i, status, body, ts.stderr)
		}
		if res.Pid != pid {
			t.Fatalf("run %d ran in process %d, not %d", i, res.Pid, pid)
		}
		for name, lb := range map[string]*logBuffer{"out": ts.stdout, "err": ts.stderr} {
			if want := fmt.Sprintf("%s %d\n%s\n", name, i, Sentinel); !strings.HasSuffix(lb.String(), want) || lb.sentinels() != i {
				t.Fatalf("after run %d std%s is %q, want %d sentinels and the suffix %q", i, name, lb, i, want)
			}
		}
	}
	if err := ts.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ts.Exited():
	case <-time.After(10 * time.Second):
		t.Fatal("the executable still runs after Close")
	}
}

// TestNativeExitsAtStart checks an executable that sends no
// acknowledgement and exits at once: init fails with its output logged.
func TestNativeExitsAtStart(t *testing.T) {
	ts := newTestServer(t, RuntimeNative)
	ts.startGrace = time.Minute // the exit must win, however slow the machine
	status, body := ts.post(t, "/init", map[string]any{"value": with(binaryCode(nativeLoop(t)), "env", map[string]any{"NATIVELOOP_EXIT": "1"})})
	if status != http.StatusBadGateway || body != errorBody("Cannot start action. Check logs for details.")+"\n" {
		t.Fatalf("init: %d %s", status, body)
	}
	if want := "nativeloop: exiting at start\n" + Sentinel + "\n"; ts.stderr.String() != want || ts.stdout.String() != Sentinel+"\n" {
		t.Fatalf("stdout %q stderr %q, want stderr %q", ts.stdout, ts.stderr, want)
	}
}

// TestNativeInitErrorIsLogged checks that an init error the proxy finds
// itself also reaches the logs, followed by the sentinels.
func TestNativeInitErrorIsLogged(t *testing.T) {
	ts := newTestServer(t, RuntimeNative)
	if status, _ := ts.post(t, "/init", map[string]any{"value": binaryCode([]byte("garbage"))}); status != http.StatusBadGateway {
		t.Fatalf("init: %d", status)
	}
	if !strings.Contains(ts.stderr.String(), "exec format error") || ts.stderr.sentinels() != 1 || ts.stdout.sentinels() != 1 {
		t.Fatalf("stdout %q stderr %q", ts.stdout, ts.stderr)
	}
}
