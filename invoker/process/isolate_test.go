package process

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wispio/wisp/internal/testenv"
	"github.com/wispio/wisp/invoker"
)

// probePy reports who the action runs as, what it may do and which of the
// files in args.read it can open.
const probePy = `
import os
def main(args):
    out = {"uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups(), "cwd": os.getcwd()}
    for line in open("/proc/self/status"):
        k, _, v = line.partition(":")
        if k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs"):
            out[k] = v.strip()
    out["limits"] = open("/proc/self/limits").read()
    reads = {}
    for p in args.get("read", []):
        try:
            if os.path.isdir(p):
                os.listdir(p)
            else:
                open(p, "rb").read(1)
            reads[p] = "read"
        except Exception as e:
            reads[p] = type(e).__name__
    out["reads"] = reads
    return out
`

type probe struct {
	UID, GID   int
	Groups     []int
	Cwd        string
	CapInh     string
	CapPrm     string
	CapEff     string
	CapBnd     string
	CapAmb     string
	NoNewPrivs string
	Limits     string
	Reads      map[string]string
}

// runProbe starts a python container and runs probePy in it.
func runProbe(t *testing.T, b *Backend, read ...string) (probe, invoker.Container) {
	if read == nil {
		read = []string{}
	}
	t.Helper()
	c, err := b.Create(context.Background(), invoker.Spec{Kind: "python:3", MemoryMB: 128, Action: "/ns/probe"})
	if err != nil {
		t.Fatal(err)
	}
	if status, body := post(t, c.URL()+"/init", map[string]any{"value": map[string]any{"main": "main", "code": probePy}}); status != 200 {
		t.Fatalf("init = %d %s", status, body)
	}
	status, body := post(t, c.URL()+"/run", map[string]any{"value": map[string]any{"read": read}})
	var p probe
	if status != 200 || json.Unmarshal([]byte(body), &p) != nil {
		t.Fatalf("run = %d %s", status, body)
	}
	return p, c
}

// TestIsolatedAsRoot plays a hostile action on a root Wisp: it must run as
// an unprivileged user of its own, with no capabilities, under limits, and
// read neither root's private files nor another container's folder.
func TestIsolatedAsRoot(t *testing.T) {
	testenv.Python(t)
	if os.Geteuid() != 0 {
		t.Skip("isolation applies only when Wisp runs as root")
	}
	// A data folder as a careless operator leaves it: world-readable, with
	// the store private to root.
	data := t.TempDir()
	if err := os.Chmod(data, 0o755); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(data, "wisp.db")
	if err := os.WriteFile(db, []byte("feed keys"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := New(Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(context.Background())

	first, c1 := runProbe(t, b)
	// The working folder holds the launcher; the code is below it.
	firstDir := filepath.Dir(first.Cwd)
	firstSocket := filepath.Join(b.sockets, c1.ID()+".sock")
	if _, err := os.Stat(firstSocket); err != nil {
		t.Fatalf("the first proxy's socket: %v", err)
	}
	second, c2 := runProbe(t, b, db, firstDir, first.Cwd, filepath.Join(firstDir, "launcher.py"), firstSocket, "/etc/hostname")
	if len(second.Reads) != 6 {
		t.Fatalf("reads = %v", second.Reads)
	}
	for _, p := range []probe{first, second} {
		if p.UID == 0 || p.GID == 0 || p.UID != p.GID || len(p.Groups) != 0 {
			t.Errorf("action runs as uid %d gid %d groups %v, want its own unprivileged user and group", p.UID, p.GID, p.Groups)
		}
		for name, v := range map[string]string{"CapInh": p.CapInh, "CapPrm": p.CapPrm, "CapEff": p.CapEff, "CapBnd": p.CapBnd, "CapAmb": p.CapAmb} {
			if v != "0000000000000000" {
				t.Errorf("%s = %s, want no capabilities", name, v)
			}
		}
		if p.NoNewPrivs != "1" {
			t.Errorf("NoNewPrivs = %q, want 1", p.NoNewPrivs)
		}
		if strings.HasPrefix(p.Cwd, data) {
			t.Errorf("working folder %s is inside the data folder", p.Cwd)
		}
		for limit, want := range map[string]string{
			"Max processes": "128", "Max open files": "1024", "Max file size": strconv.Itoa(512 << 20),
			"Max core file size": "0", "Max address space": strconv.Itoa((128 + 64) << 20),
		} {
			if got := limitOf(p.Limits, limit); got != want {
				t.Errorf("%s = %q, want %s", limit, got, want)
			}
		}
	}
	if first.UID == second.UID {
		t.Errorf("two containers share user %d", first.UID)
	}
	for path, got := range second.Reads {
		want := "PermissionError"
		if path == "/etc/hostname" {
			want = "read" // world-readable host files stay readable
		}
		if got != want {
			t.Errorf("reading %s: %s, want %s", path, got, want)
		}
	}
	if err := c1.Destroy(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(firstDir); !os.IsNotExist(err) {
		t.Errorf("the destroyed container's folder is still there: %v", err)
	}
	_ = c2.Destroy(context.Background())
}

// limitOf returns the soft value of a /proc/self/limits row.
func limitOf(limits, name string) string {
	for _, line := range strings.Split(limits, "\n") {
		if rest, ok := strings.CutPrefix(line, name); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				return f[0]
			}
		}
	}
	return ""
}

// TestIsolatedStrayKilled: a process an isolated action started in a
// session of its own (out of the launcher's group) dies with the container.
func TestIsolatedStrayKilled(t *testing.T) {
	testenv.Python(t)
	if os.Geteuid() != 0 {
		t.Skip("isolation applies only when Wisp runs as root")
	}
	b, err := New(Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(context.Background())
	c, err := b.Create(context.Background(), invoker.Spec{Kind: "python:3", MemoryMB: 128, Action: "/ns/stray"})
	if err != nil {
		t.Fatal(err)
	}
	code := "import subprocess\ndef main(args):\n    return {'pid': subprocess.Popen(['sleep', '600'], start_new_session=True).pid}\n"
	if status, body := post(t, c.URL()+"/init", map[string]any{"value": map[string]any{"main": "main", "code": code}}); status != 200 {
		t.Fatalf("init = %d %s", status, body)
	}
	status, body := post(t, c.URL()+"/run", map[string]any{"value": map[string]any{}})
	var r struct{ PID int }
	if status != 200 || json.Unmarshal([]byte(body), &r) != nil || r.PID == 0 {
		t.Fatalf("run = %d %s", status, body)
	}
	if err := c.Destroy(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitState(t, r.PID, "the stray process to go", func(st string) bool { return st == "gone" || st == "Z" })
}

// TestIsolatedNodeWebAssembly: an isolated Node.js action may still use
// WebAssembly (fetch parses HTTP with it) under its address-space limit.
func TestIsolatedNodeWebAssembly(t *testing.T) {
	testenv.Node(t)
	if os.Geteuid() != 0 {
		t.Skip("isolation applies only when Wisp runs as root")
	}
	b, err := New(Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(context.Background())
	c, err := b.Create(context.Background(), invoker.Spec{Kind: "nodejs:20", MemoryMB: 256, Action: "/ns/wasm"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy(context.Background())
	code := `const fs = require('fs');
async function main() {
  new WebAssembly.Memory({initial: 16});
  let fetched = 'no error';
  try { await fetch('http://127.0.0.1:1/'); } catch (e) { fetched = String(e.cause && e.cause.message || e.message); }
  return {fetched, limits: fs.readFileSync('/proc/self/limits', 'utf8')};
}`
	if status, body := post(t, c.URL()+"/init", map[string]any{"value": map[string]any{"main": "main", "code": code}}); status != 200 {
		t.Fatalf("init = %d %s", status, body)
	}
	status, body := post(t, c.URL()+"/run", map[string]any{"value": map[string]any{}})
	var r struct{ Fetched, Limits string }
	if status != 200 || json.Unmarshal([]byte(body), &r) != nil || r.Limits == "" {
		t.Fatalf("run = %d %s", status, body)
	}
	if strings.Contains(r.Fetched, "memory") || r.Fetched == "no error" {
		t.Fatalf("fetch failed with %q, want a connection error", r.Fetched)
	}
	if b.sandbox.nodeNoTrap {
		if got, want := limitOf(r.Limits, "Max address space"), strconv.Itoa((256+1024)<<20); got != want {
			t.Fatalf("address space limit %s, want %s", got, want)
		}
	}
}

// TestUserBlocks: two backends never share a block of users, and a
// backend that claims a block kills what still runs as its users (the
// strays of a Wisp that crashed).
func TestUserBlocks(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("isolation applies only when Wisp runs as root")
	}
	iso := DefaultIsolation()
	iso.UIDBase, iso.UIDCount, iso.LockDir = 0x7E000000, UIDBlock, t.TempDir() // one block
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	first, err := New(Config{Isolation: &iso}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close(context.Background())
	if _, err := New(Config{Isolation: &iso}, log); err == nil || !strings.Contains(err.Error(), "taken") {
		t.Fatalf("a second backend on the only block: %v", err)
	}
	// A stray of the first backend's, which then dies without cleaning up.
	stray := exec.Command(first.sandbox.setpriv, "--reuid="+strconv.Itoa(int(iso.UIDBase+5)), "--regid="+strconv.Itoa(int(iso.UIDBase+5)), "--clear-groups", "sleep", "600")
	if err := stray.Start(); err != nil {
		t.Fatal(err)
	}
	defer stray.Process.Kill()
	exited := make(chan error, 1)
	go func() { exited <- stray.Wait() }()
	// setpriv switches users shortly after it starts.
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Contains(processesOf(iso.UIDBase+5, iso.UIDBase+6), stray.Process.Pid) {
		if time.Now().After(deadline) {
			t.Fatal("the stray never ran as its user")
		}
		time.Sleep(time.Millisecond)
	}
	first.uidLock.Close()
	next, err := New(Config{Isolation: &iso}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer next.Close(context.Background())
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the stray still runs after its block was claimed again")
	}
}
