package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/internal/testenv"
	"github.com/wispio/wisp/server"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/throttle"
)

// startServer runs a whole Wisp server (process backend) with namespace
// "dep" and returns a properties file's content for it.
func startServer(t *testing.T) string {
	t.Helper()
	testenv.Node(t)
	cfg := server.DefaultConfig()
	cfg.Invoker = server.BackendProcess
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Pool.StemCells = nil
	cfg.Throttles = throttle.Limits{}
	creds := entity.NewCredentials()
	srv, err := server.Start(context.Background(), cfg, slog.New(slog.DiscardHandler), func(ctx context.Context, st store.Store) error {
		return st.CreateSubject(ctx, entity.Subject{Namespace: "dep", UUID: creds.UUID, KeyHash: entity.HashKey(creds.Key)})
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
	return "APIHOST=http://" + srv.Addr() + "\nAUTH=" + creds.String() + "\n"
}

// TestDeployProgressLines deploys and undeploys a project of many actions
// through the CLI against a real server: stderr, not a terminal here, gets
// one counted line per step; stdout keeps the plan and the result.
func TestDeployProgressLines(t *testing.T) {
	isolate(t, startServer(t))
	dir := t.TempDir()
	const n = 12
	var m strings.Builder
	m.WriteString("project:\n  name: big\n  packages:\n    big:\n      actions:\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&m, "        a%02d:\n          function: ok.js\n", i)
	}
	for name, content := range map[string]string{"manifest.yaml": m.String(), "ok.js": `function main() { return {} }`} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	manifest := filepath.Join(dir, "manifest.yaml")

	tests := []struct {
		args []string
		op   string
		ok   string
	}{
		{[]string{"deploy", "-m", manifest}, "create", "ok: deployed project big"},
		{[]string{"undeploy", "-m", manifest}, "delete", "ok: undeployed project big"},
	}
	for _, tt := range tests {
		t.Run(tt.args[0], func(t *testing.T) {
			res := runCLI(context.Background(), t, "", tt.args...)
			if res.err != nil {
				t.Fatalf("%v: %v\n%s", tt.args, res.err, res.stderr)
			}
			var want []string
			for i := 1; i <= n; i++ {
				want = append(want, fmt.Sprintf("%s action big/a%02d", tt.op, i))
			}
			if tt.op == "create" {
				want = append([]string{"create package big"}, want...)
			} else {
				want = append(want, "delete package big") // deletes go the other way: the package last
			}
			for i := range want {
				want[i] = fmt.Sprintf("[%d/%d] %s", i+1, n+1, want[i])
			}
			if got := strings.TrimSuffix(res.stderr, "\n"); got != strings.Join(want, "\n") {
				t.Errorf("stderr\n%s\nwant\n%s", got, strings.Join(want, "\n"))
			}
			if !strings.Contains(res.stdout, tt.ok) || strings.Contains(res.stdout, "[1/") {
				t.Errorf("stdout %q: want %q and no progress", res.stdout, tt.ok)
			}
		})
	}
}
