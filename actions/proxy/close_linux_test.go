//go:build linux

package proxy

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// TestCloseKillsProcessGroup checks that Close takes down the launcher and
// a process the action started, and removes the work directory.
func TestCloseKillsProcessGroup(t *testing.T) {
	ts := newTestServer(t, RuntimeNodeJS)
	ts.mustInit(t, code(`const cp = require("child_process");
		function main() { const c = cp.spawn("sleep", ["1000"], {stdio: "ignore"}); return {pid: c.pid}; }`))
	status, body := ts.post(t, "/run", map[string]any{"value": map[string]any{}})
	var res struct{ Pid int }
	if status != http.StatusOK || json.Unmarshal([]byte(body), &res) != nil || res.Pid == 0 {
		t.Fatalf("run: %d %s", status, body)
	}
	launcherPid := ts.Pid()
	if launcherPid == 0 {
		t.Fatal("Pid() = 0 after init")
	}
	if pgid, err := unix.Getpgid(res.Pid); err != nil || pgid != launcherPid {
		t.Fatalf("child pgid %d (%v), want %d", pgid, err, launcherPid)
	}
	fds := make([]int, 0, 2)
	for _, pid := range []int{launcherPid, res.Pid} {
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			t.Fatalf("pidfd_open %d: %v", pid, err)
		}
		defer unix.Close(fd)
		fds = append(fds, fd)
	}
	if err := ts.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for i, fd := range fds {
		// a pidfd polls readable once its process has terminated
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(pfd, 10_000)
		if err != nil || n != 1 {
			t.Errorf("process %d still running after Close (poll %d, %v)", i, n, err)
		}
	}
	if ts.Pid() != 0 {
		t.Errorf("Pid() = %d after Close", ts.Pid())
	}
	if _, err := os.Stat(ts.cfg.WorkDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("work dir still there after Close: %v", err)
	}
}
