//go:build unix && !linux

package proxy

import "syscall"

// sysProcAttr starts the launcher as the leader of a new process group, so
// the group can be paused and killed as one.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// waitUntilExited cannot wait without reaping here (no waitid WNOWAIT); the
// group is then killed right after the launcher is reaped.
func waitUntilExited(int) bool { return false }

// killGroup sends SIGKILL to the process group led by pid.
func killGroup(pid int) {
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL) // ESRCH: already gone
	}
}

// hideProcess has no portable equivalent of Linux's non-dumpable flag here.
func hideProcess() error { return nil }
