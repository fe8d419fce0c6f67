package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// recordingTB stands in for a test: it records Fatalf and Skipf instead of
// stopping the goroutine, so Require's choice can be checked.
type recordingTB struct {
	testing.TB
	fataled, skipped bool
	msg              string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.fataled = true
	r.msg = fmt.Sprintf(format, args...)
}

func (r *recordingTB) Skipf(format string, args ...any) {
	r.skipped = true
	r.msg = fmt.Sprintf(format, args...)
}

func TestRequire(t *testing.T) {
	tests := []struct {
		name        string
		require     string
		ok          bool
		wantFatal   bool
		wantSkipped bool
	}{
		{name: "available locally", require: "", ok: true},
		{name: "available in CI", require: "1", ok: true},
		{name: "missing locally skips", require: "", ok: false, wantSkipped: true},
		{name: "missing with other value skips", require: "0", ok: false, wantSkipped: true},
		{name: "missing in CI fails", require: "1", ok: false, wantFatal: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(RequireServicesEnv, tt.require)
			rec := &recordingTB{TB: t}
			Require(rec, "widget", tt.ok, "not installed")
			if rec.fataled != tt.wantFatal || rec.skipped != tt.wantSkipped {
				t.Fatalf("fatal=%v skipped=%v, want fatal=%v skipped=%v (%q)",
					rec.fataled, rec.skipped, tt.wantFatal, tt.wantSkipped, rec.msg)
			}
		})
	}
}

func TestNodeMajor(t *testing.T) {
	tests := []struct {
		in     string
		want   int
		wantOK bool
	}{
		{"v20.20.2\n", 20, true},
		{"v18.19.0", 18, true},
		{"22", 22, true},
		{"", 0, false},
		{"node: not found", 0, false},
	}
	for _, tt := range tests {
		got, ok := nodeMajor(tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("nodeMajor(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestRepoRoot(t *testing.T) {
	root := RepoRoot(t)
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("RepoRoot() = %s, which has no go.mod: %v", root, err)
	}
	if _, err := os.Stat(filepath.Join(root, "internal", "testenv", "doc.go")); err != nil {
		t.Fatalf("RepoRoot() = %s is not this repository: %v", root, err)
	}
}

func TestPython(t *testing.T) {
	if path := Python(t); path == "" {
		t.Fatal("Python() returned an empty path")
	}
}

// TestNodeNeedsNoNpmClient runs in a module without test/compat/node_modules:
// Node must still succeed there and NodeClient must refuse, naming the client.
func TestNodeNeedsNoNpmClient(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("no node on PATH")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	t.Setenv(RequireServicesEnv, "1")

	rec := &recordingTB{TB: t}
	if path := Node(rec); rec.fataled || rec.skipped || path == "" {
		t.Errorf("Node() = %q without the npm client: fatal=%v skipped=%v %q", path, rec.fataled, rec.skipped, rec.msg)
	}
	rec = &recordingTB{TB: t}
	NodeClient(rec)
	if !rec.fataled || !strings.Contains(rec.msg, "openwhisk") {
		t.Errorf("NodeClient() without the npm client: fatal=%v %q, want a failure naming openwhisk", rec.fataled, rec.msg)
	}
}
