package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wispio/wisp/client"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/internal/testenv"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/throttle"
)

// startServer runs a whole single-process Wisp on a loopback port with a
// fresh data folder and returns a client for namespace "test".
func startServer(t testing.TB, tweak func(*Config)) (*Server, *client.Client) {
	t.Helper()
	testenv.Node(t)
	cfg := DefaultConfig()
	cfg.Invoker = BackendProcess // tests that want Docker say so
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Throttles = throttle.Limits{} // tests invoke far more than 60 times a minute; throttle tests set them
	if tweak != nil {
		tweak(&cfg)
	}
	creds := entity.NewCredentials()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("WISP_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	srv, err := Start(context.Background(), cfg, log, func(ctx context.Context, st store.Store) error {
		return st.CreateSubject(ctx, entity.Subject{Namespace: "test", UUID: creds.UUID, KeyHash: entity.HashKey(creds.Key)})
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("close server: %v", err)
		}
	})
	return srv, client.New(client.Config{APIHost: "http://" + srv.Addr(), Auth: creds.String()})
}

func createAction(t testing.TB, c *client.Client, name, kind, code string, limits *client.Limits) {
	t.Helper()
	_, _, err := c.PutAction(context.Background(), &client.Action{Name: name, Exec: &client.Exec{Kind: kind, Code: code}, Limits: limits}, true)
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
}

func invoke(t testing.TB, c *client.Client, name string, params any) *client.Activation {
	t.Helper()
	inv, _, err := c.InvokeAction(context.Background(), name, params, true, false)
	var ce *client.Error
	if err != nil && !(errors.As(err, &ce) && ce.StatusCode == http.StatusBadGateway) {
		t.Fatalf("invoke %s: %v", name, err)
	}
	if inv == nil || inv.Activation == nil {
		t.Fatalf("invoke %s: no activation (%+v)", name, inv)
	}
	return inv.Activation
}

func annotation(a *client.Activation, key string) (json.RawMessage, bool) {
	for _, kv := range a.Annotations {
		if kv.Key == key {
			b, _ := json.Marshal(kv.Value)
			return b, true
		}
	}
	return nil, false
}

const echoJS = `function main(params) { console.log("got", JSON.stringify(params)); return {echo: params, pid: process.pid} }`

func TestColdWarmPausedResumed(t *testing.T) {
	srv, c := startServer(t, func(cfg *Config) { cfg.Pool.PauseGrace = 5 * time.Millisecond })
	createAction(t, c, "echo", "nodejs:default", echoJS, nil)

	cold := invoke(t, c, "echo", map[string]any{"n": 1})
	if !cold.Response.Success {
		t.Fatalf("cold activation failed: %s", cold.Response.Result)
	}
	if _, ok := annotation(cold, "initTime"); !ok {
		t.Fatal("a cold activation has no initTime annotation")
	}
	if len(cold.Logs) != 1 || !strings.Contains(cold.Logs[0], `stdout: got {"n":1}`) {
		t.Fatalf("logs = %q", cold.Logs)
	}

	waitPaused(t, srv)
	warm := invoke(t, c, "echo", map[string]any{"n": 2})
	if _, ok := annotation(warm, "initTime"); ok {
		t.Fatal("a warm activation has an initTime annotation")
	}
	var r1, r2 struct{ PID int }
	_ = json.Unmarshal(cold.Response.Result, &r1)
	_ = json.Unmarshal(warm.Response.Result, &r2)
	if r1.PID == 0 || r1.PID != r2.PID {
		t.Fatalf("the warm activation ran in process %d, not the paused %d", r2.PID, r1.PID)
	}
}

func TestTimeoutDestroysContainer(t *testing.T) {
	srv, c := startServer(t, nil)
	timeout := 300
	createAction(t, c, "slow", "nodejs:20", `async function main(p) { if (p.sleep) await new Promise(r => setTimeout(r, 5000)); return {pid: process.pid} }`, &client.Limits{Timeout: &timeout})
	first := invoke(t, c, "slow", nil)
	act := invoke(t, c, "slow", map[string]any{"sleep": true})
	if act.Response.Success || !strings.Contains(string(act.Response.Result), "exceeded its time limits of 300 milliseconds") {
		t.Fatalf("timed-out activation = %+v %s", act.Response, act.Response.Result)
	}
	if v, _ := annotation(act, "timeout"); string(v) != "true" {
		t.Fatalf("timeout annotation = %s", v)
	}
	waitFor(t, "the timed-out container to go", func() bool { return len(srv.Invoker().Pool().Containers()) == 0 })
	again := invoke(t, c, "slow", nil)
	if _, ok := annotation(again, "initTime"); !ok || string(again.Response.Result) == string(first.Response.Result) {
		t.Fatal("the activation after a timeout did not get a fresh container")
	}
}

func TestPythonAndErrors(t *testing.T) {
	testenv.Python(t)
	_, c := startServer(t, nil)
	createAction(t, c, "py", "python:default", "def main(args):\n    print('hi from python')\n    return {'sum': args.get('a', 0) + args.get('b', 0)}\n", nil)
	act := invoke(t, c, "py", map[string]any{"a": 2, "b": 3})
	if string(act.Response.Result) != `{"sum": 5}` && string(act.Response.Result) != `{"sum":5}` {
		t.Fatalf("result = %s", act.Response.Result)
	}
	if len(act.Logs) != 1 || !strings.HasSuffix(act.Logs[0], "stdout: hi from python") {
		t.Fatalf("logs = %q", act.Logs)
	}
	tests := []struct {
		name, kind, code string
		wantStatus       string
	}{
		{"apperr", "nodejs:20", `function main() { return {error: "bad input"} }`, "application error"},
		{"throws", "nodejs:20", `function main() { throw new Error("kaboom") }`, "action developer error"},
		{"syntax", "nodejs:20", `function main( {`, "action developer error"},
		{"nomain", "python:3", `def other(a): return a`, "action developer error"},
		{"notobject", "python:3", "def main(a):\n    return 42\n", "action developer error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			createAction(t, c, tt.name, tt.kind, tt.code, nil)
			act := invoke(t, c, tt.name, nil)
			if act.Response.Status != tt.wantStatus || !strings.Contains(string(act.Response.Result), `"error"`) {
				t.Fatalf("response = %+v %s, want %s", act.Response, act.Response.Result, tt.wantStatus)
			}
		})
	}
}

func TestConcurrentInvocationsShareAContainer(t *testing.T) {
	srv, c := startServer(t, nil)
	conc := 10
	createAction(t, c, "conc", "nodejs:20", `async function main(p) { await new Promise(r => setTimeout(r, 100)); return {i: p.i, pid: process.pid} }`, &client.Limits{Concurrency: &conc})
	invoke(t, c, "conc", map[string]any{"i": -1}) // one warm container
	var wg sync.WaitGroup
	results := make([]*client.Activation, 10)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = invoke(t, c, "conc", map[string]any{"i": i})
		}()
	}
	wg.Wait()
	for i, a := range results {
		var r struct{ I int }
		if a == nil || json.Unmarshal(a.Response.Result, &r) != nil || r.I != i {
			t.Fatalf("activation %d got %+v", i, a)
		}
	}
	if n := len(srv.Invoker().Pool().Containers()); n != 1 {
		t.Fatalf("%d containers for an action with concurrency 10", n)
	}
}

func TestNonBlockingInvokeIsRecorded(t *testing.T) {
	_, c := startServer(t, nil)
	createAction(t, c, "echo", "nodejs:20", echoJS, nil)
	inv, _, err := c.InvokeAction(context.Background(), "echo", map[string]any{"x": 1}, false, false)
	if err != nil || inv.ActivationID == "" {
		t.Fatalf("invoke = %+v, %v", inv, err)
	}
	var act *client.Activation
	waitFor(t, "the activation record", func() bool {
		act, _, err = c.GetActivation(context.Background(), inv.ActivationID)
		return err == nil
	})
	if !act.Response.Success || act.Name != "echo" || act.Namespace != "test" {
		t.Fatalf("activation = %+v", act)
	}
}

// waitPaused waits until the pool holds one container, paused.
func waitPaused(t testing.TB, srv *Server) {
	t.Helper()
	waitFor(t, "the container to be paused", func() bool {
		cs := srv.Invoker().Pool().Containers()
		return len(cs) == 1 && cs[0].Paused
	})
}

// waitFor polls cond until it holds, failing the test after 10 seconds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	waitWithin(t, 10*time.Second, what, cond)
}

// containerWait bounds a wait for a container the engine creates and
// starts in the background (a stem cell): on a loaded machine one can take
// several seconds, and a failed creation is retried after RefillRetry
// (10 s).
const containerWait = time.Minute

// waitWithin polls cond until it holds, failing the test after limit.
func waitWithin(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
