//go:build unix

package compat

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wispio/wisp/internal/testenv"
)

const (
	buildTimeout  = 10 * time.Minute
	adminTimeout  = time.Minute
	readyTimeout  = time.Minute
	readyInterval = 50 * time.Millisecond
	// shutdownTimeout is longer than the 30 s the server allows itself.
	shutdownTimeout = 45 * time.Second
	nodeTimeout     = 15 * time.Minute
	// nodeTestTimeout bounds each JS test and each file (node counts a file as
	// a test); a blocking invoke waits at most 60 s.
	nodeTestTimeout = 5 * time.Minute
	// serverLogLimit is how much of the server's log a failing test prints.
	serverLogLimit = 64 << 10
)

// wispBuild is the server binary that TestMain builds once for every test, or
// takes from WISP_COMPAT_BIN. It is written before m.Run and only read after.
var wispBuild struct {
	path string
	err  error
}

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	flag.Parse()
	if testing.Short() {
		return m.Run() // the tests skip themselves; no need to build
	}
	if bin := os.Getenv("WISP_COMPAT_BIN"); bin != "" {
		// Run the suite against a binary built elsewhere (another build
		// mode, a release): nothing to build.
		wispBuild.path, wispBuild.err = filepath.Abs(bin)
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "wisp-compat-bin-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "compat: temp dir for the wisp binary: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	wispBuild.path, wispBuild.err = buildWisp(filepath.Join(dir, "wisp"))
	return m.Run()
}

// buildWisp runs `go build -o out ./cmd/wisp` from the repository root.
func buildWisp(out string) (string, error) {
	root, err := testenv.FindRepoRoot()
	if err != nil {
		return "", err
	}
	gocmd, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("find the go command: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, gocmd, "build", "-o", out, "./cmd/wisp")
	cmd.Dir = root
	if output, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/wisp: %w\n%s", err, output)
	}
	return out, nil
}

// wispBinary returns the binary TestMain built, failing the test when the
// build failed.
func wispBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("compat suite starts a server and runs node; skipped in -short mode")
	}
	if wispBuild.err != nil {
		t.Fatalf("build the server: %v", wispBuild.err)
	}
	return wispBuild.path
}

// TestOpenWhiskClient runs js/*.test.js with `node --test` against a fresh
// `wisp serve`, streaming node's report into the test log.
func TestOpenWhiskClient(t *testing.T) {
	bin := wispBinary(t)
	node := testenv.NodeClient(t)
	root := testenv.RepoRoot(t)
	srv := startServer(t, bin)

	files, err := filepath.Glob(filepath.Join(root, "test", "compat", "js", "*.test.js"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no JS test files in test/compat/js (err %v)", err)
	}
	// Files are named explicitly: a file list means the same to every node
	// since 18, while how a directory argument is expanded varies by version.
	args := []string{"--test", "--test-reporter=spec",
		fmt.Sprintf("--test-timeout=%d", nodeTestTimeout.Milliseconds())}
	for _, f := range files {
		rel, err := filepath.Rel(root, f)
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, rel)
	}

	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = root
	cmd.Env = append(cleanEnv(os.Environ()),
		"WISP_APIHOST="+srv.url,
		"WISP_AUTH="+srv.auth,
		"WISP_OTHER_AUTH="+srv.otherAuth,
		"WISP_NAMESPACE=compat",
		"WISP_OTHER_NAMESPACE=other",
	)
	// node runs each file in a child process: stop the whole group on timeout.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	out := &lineLogger{t: t, prefix: "node: "}
	cmd.Stdout = out
	cmd.Stderr = out

	t.Logf("running node %s", strings.Join(args, " "))
	err = cmd.Run()
	out.flush()
	if err != nil {
		t.Errorf("node --test failed: %v (its report is above; server at %s)", err, srv.url)
	}
}

// server is one running `wisp serve` with two namespaces.
type server struct {
	url       string // http://127.0.0.1:PORT
	auth      string // uuid:key of namespace compat
	otherAuth string // uuid:key of namespace other
}

// startServer creates the two namespaces in a fresh data directory, starts
// `wisp serve` on a free loopback port, and waits until GET /api/v1 answers 200.
// A cleanup stops it with SIGTERM and checks that it exits cleanly.
func startServer(t *testing.T, bin string) *server {
	t.Helper()
	dataDir := t.TempDir()
	// A home of its own, so that nothing the server writes there on first
	// start (~/.wskprops) touches the real one.
	env := append(cleanEnv(os.Environ()), "HOME="+t.TempDir())
	srv := &server{
		auth:      createUser(t, bin, env, dataDir, "compat"),
		otherAuth: createUser(t, bin, env, dataDir, "other"),
	}
	addr := freeLoopbackAddr(t)
	srv.url = "http://" + addr

	logPath := filepath.Join(t.TempDir(), "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("create server log: %v", err)
	}
	defer logFile.Close() // the child keeps its own descriptor

	cmd := exec.Command(bin, "serve", "--addr", addr, "--data", dataDir, "--invoker", "process",
		"--throttle-invocations-per-minute", "0", "--throttle-concurrent", "0", "--throttle-fires-per-minute", "0")
	cmd.Env = env
	// A file, not a buffer: no copying goroutine that action processes
	// inheriting the descriptor could hold open. Own process group, so that
	// processes the server leaves behind can be found and stopped.
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s serve: %v", bin, err)
	}
	proc := watch(cmd)
	t.Cleanup(func() {
		stopServer(t, proc)
		if t.Failed() {
			t.Logf("server log (%s):\n%s", logPath, tail(logPath, serverLogLimit))
		}
	})
	waitReady(t, srv.url, proc)
	t.Logf("wisp serve ready at %s (data %s)", srv.url, dataDir)
	return srv
}

// createUser runs `wisp admin user create NAME --data DIR` and returns the
// last line of its standard output, the key as uuid:key.
func createUser(t *testing.T, bin string, env []string, dataDir, namespace string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "admin", "user", "create", namespace, "--data", dataDir)
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("wisp admin user create %s: %v\nstdout:\n%s\nstderr:\n%s", namespace, err, stdout, stderr.String())
	}
	key, err := lastLineKey(string(stdout))
	if err != nil {
		t.Fatalf("wisp admin user create %s: %v\nstdout:\n%s", namespace, err, stdout)
	}
	return key
}

// lastLineKey returns the last non-empty line of out, checked to be uuid:key.
func lastLineKey(out string) (string, error) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	uuid, key, ok := strings.Cut(last, ":")
	if !ok || uuid == "" || key == "" || strings.ContainsAny(last, " \t") {
		return "", fmt.Errorf("last line of stdout is %q, want uuid:key", last)
	}
	return last, nil
}

// freeLoopbackAddr returns 127.0.0.1:PORT for a port that was free a moment ago.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatalf("release port %s: %v", addr, err)
	}
	return addr
}

// process is a started command whose exit is awaited by one goroutine.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once cmd.Wait returned
	err  error         // cmd.Wait's result; written before done is closed
}

func watch(cmd *exec.Cmd) *process {
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p
}

// waitReady polls GET /api/v1 until it answers 200, the server exits, or the
// deadline passes.
func waitReady(t *testing.T, baseURL string, proc *process) {
	t.Helper()
	client := &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
	}
	deadline := time.NewTimer(readyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(readyInterval)
	defer tick.Stop()
	var last string
	for {
		resp, err := client.Get(baseURL + "/api/v1")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-proc.done:
			t.Fatalf("wisp serve exited before answering GET /api/v1: %v", proc.err)
		case <-deadline.C:
			t.Fatalf("GET %s/api/v1 not 200 after %v; last: %s", baseURL, readyTimeout, last)
		case <-tick.C:
		}
	}
}

// stopServer sends SIGTERM and expects a clean exit (status 0) within
// shutdownTimeout, and no process of the server's group left running.
func stopServer(t *testing.T, proc *process) {
	t.Helper()
	pgid := proc.cmd.Process.Pid
	select {
	case <-proc.done:
		report := t.Errorf
		if t.Failed() {
			report = t.Logf // already reported, most likely by waitReady
		}
		report("wisp serve had already exited before SIGTERM: %v", proc.err)
	default:
		if err := proc.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			t.Errorf("SIGTERM wisp serve: %v", err)
		}
		timer := time.NewTimer(shutdownTimeout)
		defer timer.Stop()
		select {
		case <-proc.done:
			if proc.err != nil {
				t.Errorf("wisp serve did not exit cleanly on SIGTERM: %v", proc.err)
			}
		case <-timer.C:
			t.Errorf("wisp serve still running %v after SIGTERM; killing it", shutdownTimeout)
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-proc.done
		}
	}
	// Signal 0 probes the group: success means something in it is still alive.
	if syscall.Kill(-pgid, 0) == nil {
		t.Errorf("processes started by wisp serve still running after it exited; killing group %d", pgid)
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
}

// cleanEnv drops variables that would send the clients through a proxy or
// point them at another OpenWhisk (__OW_*), and any WISP_* set by the caller.
func cleanEnv(env []string) []string {
	var kept []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		upper := strings.ToUpper(name)
		if strings.HasSuffix(upper, "_PROXY") || upper == "PROXY" ||
			strings.HasPrefix(upper, "__OW_") || strings.HasPrefix(upper, "WISP_") {
			continue
		}
		kept = append(kept, kv)
	}
	return kept
}

// tail returns at most limit bytes from the end of the file at path.
func tail(path string, limit int64) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(open: %v)", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(stat: %v)", err)
	}
	offset := max(info.Size()-limit, 0)
	buf := make([]byte, info.Size()-offset)
	if _, err := f.ReadAt(buf, offset); err != nil {
		return fmt.Sprintf("(read: %v)", err)
	}
	if offset > 0 {
		return fmt.Sprintf("(first %d bytes cut)\n%s", offset, buf)
	}
	return string(buf)
}

// lineLogger writes each complete line to the test log as it arrives. exec.Cmd
// calls Write from one goroutine at a time when Stdout and Stderr are the same
// writer, so it needs no lock.
type lineLogger struct {
	t       *testing.T
	prefix  string
	partial []byte
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		l.t.Log(l.prefix + strings.TrimRight(string(l.partial[:i]), "\r"))
		l.partial = l.partial[i+1:]
	}
}

// flush logs a last line that had no newline. Call it after the command ended.
func (l *lineLogger) flush() {
	if len(l.partial) > 0 {
		l.t.Log(l.prefix + string(l.partial))
		l.partial = nil
	}
}
