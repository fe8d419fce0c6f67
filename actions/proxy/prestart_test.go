package proxy

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"syscall"
	"testing"
)

// TestPrestart: with Prestart the interpreter runs before any /init, and
// the action it then loads sees its /init env and runs in its code
// directory, as one whose launcher starts at /init does.
func TestPrestart(t *testing.T) {
	env := map[string]any{"GREETING": "hi", "N": 3}
	for _, tt := range []struct {
		runtime string
		code    string
	}{
		{RuntimeNodeJS, `function main() { return {g: process.env.GREETING, n: process.env.N, cwd: process.cwd()} }`},
		{RuntimePython, "import os\ndef main(a):\n    return {'g': os.environ.get('GREETING'), 'n': os.environ.get('N'), 'cwd': os.getcwd()}\n"},
	} {
		for _, prestart := range []bool{false, true} {
			name := tt.runtime + "/started-at-init"
			if prestart {
				name = tt.runtime + "/prestarted"
			}
			t.Run(name, func(t *testing.T) {
				ts := newConfiguredServer(t, tt.runtime, func(c *Config) { c.Prestart = prestart })
				spare := ts.spareLauncher()
				if prestart != (spare != nil) {
					t.Fatalf("before /init: spare launcher %v, want one: %v", spare != nil, prestart)
				}
				if spare != nil && syscall.Kill(spare.pid, 0) != nil {
					t.Fatalf("the prestarted launcher %d does not run", spare.pid)
				}
				ts.mustInit(t, with(code(tt.code), "env", env))
				if ts.spareLauncher() != nil {
					t.Fatal("the spare launcher was not taken by /init")
				}
				if spare != nil && ts.Pid() != spare.pid {
					t.Fatalf("the action runs in launcher %d, not the prestarted %d", ts.Pid(), spare.pid)
				}
				status, got := ts.post(t, "/run", map[string]any{"value": map[string]any{}})
				want := `{"g":"hi","n":"3","cwd":` + jsonString(ts.codeDir()) + `}`
				if status != 200 || !jsonEqual(got, want) {
					t.Fatalf("run = %d %s, want %s\nstderr:\n%s", status, got, want, ts.stderr.String())
				}
			})
		}
	}
}

// TestPrestartedLauncherDied: a prestarted launcher that is gone by /init
// is replaced by a fresh one, and the action runs.
func TestPrestartedLauncherDied(t *testing.T) {
	ts := newConfiguredServer(t, RuntimeNodeJS, func(c *Config) { c.Prestart = true })
	spare := ts.spareLauncher()
	if spare == nil {
		t.Fatal("no prestarted launcher")
	}
	if err := syscall.Kill(spare.pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-spare.exited
	ts.mustInit(t, code(`function main() { return {ok: true} }`))
	if ts.Pid() == spare.pid {
		t.Fatal("the dead launcher is still the action's")
	}
	if status, got := ts.post(t, "/run", map[string]any{"value": map[string]any{}}); status != 200 || !jsonEqual(got, `{"ok":true}`) {
		t.Fatalf("run = %d %s", status, got)
	}
}

// TestPrestartedLauncherClosed: Close without any /init stops the
// prestarted launcher.
func TestPrestartedLauncherClosed(t *testing.T) {
	ts := newConfiguredServer(t, RuntimePython, func(c *Config) { c.Prestart = true })
	spare := ts.spareLauncher()
	if spare == nil {
		t.Fatal("no prestarted launcher")
	}
	if err := ts.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-spare.exited:
	default:
		t.Fatal("Close left the prestarted launcher running")
	}
}

// spareLauncher is the prestarted launcher not yet taken, or nil.
func (ts *testServer) spareLauncher() *launcher {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.spare
}

// newConfiguredServer is newTestServer with cfg adjusted by tweak.
func newConfiguredServer(tb testing.TB, runtime string, tweak func(*Config)) *testServer {
	tb.Helper()
	requireInterpreter(tb, runtime)
	ts := &testServer{stdout: &logBuffer{}, stderr: &logBuffer{}}
	cfg := Config{Runtime: runtime, WorkDir: filepath.Join(tb.TempDir(), "work"), Stdout: ts.stdout, Stderr: ts.stderr}
	if runtime == RuntimePython {
		cfg.PythonPath = pythonPath(tb)
	}
	tweak(&cfg)
	s, err := New(cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	ts.Server = s
	tb.Cleanup(func() { _ = s.Close() })
	return ts
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestPrestartReadiness: GET / answers 503 while the prestarted runtime
// loads and 404 once it waits for /init, so that a readiness probe (the
// Docker backend's) counts a stem cell ready only when its interpreter is.
func TestPrestartReadiness(t *testing.T) {
	for _, runtime := range []string{RuntimeNodeJS, RuntimePython} {
		t.Run(runtime, func(t *testing.T) {
			ts := newConfiguredServer(t, runtime, func(c *Config) { c.Prestart = true })
			probe := func() int {
				rec := httptest.NewRecorder()
				ts.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
				return rec.Code
			}
			spare := ts.spareLauncher()
			switch got := probe(); got {
			case http.StatusServiceUnavailable:
			case http.StatusNotFound:
				select {
				case <-spare.ready:
				default:
					t.Fatal("GET / = 404 while the runtime is still loading, want 503")
				}
			default:
				t.Fatalf("GET / right after New = %d, want 503", got)
			}
			<-spare.ready
			if got := probe(); got != http.StatusNotFound {
				t.Fatalf("GET / once ready = %d, want 404", got)
			}
		})
	}
}
