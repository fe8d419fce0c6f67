package proxy

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wispio/wisp/internal/testenv"
)

// requireInterpreter skips the test when the runtime's interpreter is not
// installed, unless WISP_REQUIRE_SERVICES=1, where it fails instead.
func requireInterpreter(tb testing.TB, runtime string) {
	tb.Helper()
	name := dialects[runtime].interpreter
	if name == "" { // native
		return
	}
	_, err := exec.LookPath(name)
	testenv.Require(tb, name, err == nil, fmt.Sprint(err))
}

// logBuffer is a Config writer that keeps what it got and can report lines.
type logBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	onLine func(line string) // called for every Write, outside the lock
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	b.buf.Write(p)
	f := b.onLine
	b.mu.Unlock()
	if f != nil {
		f(string(p))
	}
	return len(p), nil
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) sentinels() int {
	return strings.Count(b.String(), Sentinel+"\n")
}

// realPython is the interpreter behind python3, which may be a slow
// version-manager shim.
var realPython = sync.OnceValue(func() string {
	out, err := exec.Command("python3", "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		return "python3"
	}
	return strings.TrimSpace(string(out))
})

func pythonPath(tb testing.TB) string {
	tb.Helper()
	requireInterpreter(tb, RuntimePython)
	return realPython()
}

type testServer struct {
	*Server
	stdout, stderr *logBuffer
}

func newTestServer(tb testing.TB, runtime string) *testServer {
	tb.Helper()
	requireInterpreter(tb, runtime)
	ts := &testServer{stdout: &logBuffer{}, stderr: &logBuffer{}}
	cfg := Config{
		Runtime: runtime,
		WorkDir: filepath.Join(tb.TempDir(), "work"),
		Stdout:  ts.stdout,
		Stderr:  ts.stderr,
		// As both backends run it; TestPrestart covers the launcher
		// started at /init.
		Prestart: true,
	}
	if runtime == RuntimePython {
		cfg.PythonPath = pythonPath(tb)
	}
	s, err := New(cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	ts.Server = s
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return ts
}

// post sends body (a string as is, anything else as JSON) to path.
func (ts *testServer) post(tb testing.TB, path string, body any) (int, string) {
	tb.Helper()
	return ts.postCtx(tb, context.Background(), path, body)
}

func (ts *testServer) postCtx(tb testing.TB, ctx context.Context, path string, body any) (int, string) {
	tb.Helper()
	raw, ok := body.(string)
	if !ok {
		b, err := json.Marshal(body)
		if err != nil {
			tb.Fatalf("marshal body: %v", err)
		}
		raw = string(b)
	}
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, path, strings.NewReader(raw))
	rec := httptest.NewRecorder()
	ts.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// mustInit initialises the server or fails the test.
func (ts *testServer) mustInit(tb testing.TB, value map[string]any) {
	tb.Helper()
	if status, body := ts.post(tb, "/init", map[string]any{"value": value}); status != http.StatusOK {
		tb.Fatalf("init: %d %s\nstderr:\n%s", status, body, ts.stderr.String())
	}
}

func code(src string) map[string]any { return map[string]any{"code": src} }

func zipCode(tb testing.TB, files map[string]string) string {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		w, err := zw.Create(name)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write([]byte(content)); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// jsonEqual compares two JSON texts by value.
func jsonEqual(a, b string) bool {
	var va, vb any
	if json.Unmarshal([]byte(a), &va) != nil || json.Unmarshal([]byte(b), &vb) != nil {
		return false
	}
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return bytes.Equal(ja, jb)
}

func errorBody(msg string) string {
	b, _ := json.Marshal(map[string]string{"error": msg})
	return string(b)
}
