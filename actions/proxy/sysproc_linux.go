package proxy

import (
	"syscall"
	"unsafe"
)

// sysProcAttr starts the launcher as the leader of a new process group (so
// the group can be paused and killed as one) and kills it if the proxy dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// waitUntilExited blocks until the child pid has exited, without reaping it,
// so that its process group can still be killed safely by id. It reports
// whether it waited.
func waitUntilExited(pid int) bool {
	const pPID, wNoWait = 1, 0x1000000
	var siginfo [128]byte
	for {
		_, _, errno := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(pid),
			uintptr(unsafe.Pointer(&siginfo[0])), syscall.WEXITED|wNoWait, 0, 0)
		if errno != syscall.EINTR {
			return errno == 0
		}
	}
}

// killGroup sends SIGKILL to the process group led by pid.
func killGroup(pid int) {
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL) // ESRCH: already gone
	}
}

// hideProcess makes this process non-dumpable: its /proc files (environ,
// mem) turn root's and ptrace is refused, so the action's processes,
// which run as the same user, cannot read the proxy's memory or its
// initial environment, which held the secret.
func hideProcess() error {
	const prSetDumpable = 4
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetDumpable, 0, 0); errno != 0 {
		return errno
	}
	return nil
}
