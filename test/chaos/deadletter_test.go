package chaos

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/wispio/wisp/internal/testenv"
)

// TestKillDuringRetries fires events at a rule whose action crashes,
// with three attempts a second apart and a dead-letter trigger. Once every
// event's first attempt is recorded, the server gets SIGKILL (its retries
// scheduled, none due); restarted on the same data folder, it must still
// make the other attempts and fire each event's dead letter exactly once:
// three attempt records and one dead-letter record (and one run of the
// dead-letter rule's action) per event, none missing, none twice.
func TestKillDuringRetries(t *testing.T) {
	testenv.Node(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "wisp")
	build := exec.Command("go", "build", "-o", bin, "./cmd/wisp")
	build.Dir = testenv.RepoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build wisp: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg := Config{Bin: bin, Dir: dir}
	data := filepath.Join(dir, "data")
	key, err := createNamespace(ctx, bin, data)
	if err != nil {
		t.Fatal(err)
	}
	srv := &server{cfg: &cfg, data: data, addr: freeAddr()}
	if err := srv.start(ctx, "run1"); err != nil {
		t.Fatal(err)
	}
	defer srv.kill()
	a := &apiClient{addr: srv.addr, auth: "Basic " + base64.StdEncoding.EncodeToString([]byte(key)), http: &http.Client{Timeout: 30 * time.Second}}
	for _, s := range []struct {
		path string
		body any
	}{
		{"_/actions/crash", map[string]any{"exec": map[string]any{"kind": "nodejs:20", "code": "function main(p) { process.exit(1) }"}}},
		{"_/actions/catch", map[string]any{"exec": map[string]any{"kind": "nodejs:20", "code": "function main(p) { return {n: p.event.n} }"}}},
		{"_/triggers/T", map[string]any{}},
		{"_/triggers/DL", map[string]any{}},
		{"_/rules/onDL", map[string]any{"trigger": "/_/DL", "action": "/_/catch"}},
		{"_/rules/R", map[string]any{"trigger": "/_/T", "action": "/_/crash", "deadLetter": "DL",
			"retry": map[string]any{"attempts": 3, "backoff": map[string]any{"initial": "1s", "max": "1s"}}}},
	} {
		if err := a.must(ctx, http.MethodPut, s.path, s.body); err != nil {
			t.Fatal(err)
		}
	}
	const events = 10
	for n := range events {
		if err := a.must(ctx, http.MethodPost, "_/triggers/T", map[string]any{"n": n}); err != nil {
			t.Fatal(err)
		}
	}
	waitCount(ctx, t, a, "crash", events)
	t.Log("every first attempt recorded: SIGKILL")
	srv.kill()
	if err := srv.start(ctx, "run2"); err != nil {
		t.Fatal(err)
	}
	waitCount(ctx, t, a, "DL", events)
	waitCount(ctx, t, a, "catch", events)
	waitCount(ctx, t, a, "crash", 3*events)
	for _, name := range []string{"crash", "DL", "catch"} {
		acts, err := a.list(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"crash": 3 * events, "DL": events, "catch": events}[name]
		seen := map[string]bool{}
		perEvent := map[float64]int{}
		for _, act := range acts {
			if seen[act.ActivationID] {
				t.Errorf("%s: record %s twice", name, act.ActivationID)
			}
			seen[act.ActivationID] = true
			if name == "catch" {
				var r struct {
					Result struct{ N float64 }
				}
				_ = json.Unmarshal(act.Response, &r)
				perEvent[r.Result.N]++
			}
		}
		if len(acts) != want {
			t.Errorf("%s: %d records, want %d", name, len(acts), want)
		}
		for n, c := range perEvent {
			if c != 1 {
				t.Errorf("event %v: dead-letter rule ran %d times", n, c)
			}
		}
	}
}

// waitCount waits until name has at least n records.
func waitCount(ctx context.Context, t *testing.T, a *apiClient, name string, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		acts, err := a.list(ctx, name)
		if err == nil && len(acts) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d records after a minute, want %d (err %v)", name, len(acts), n, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
