package proxy

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// The cleanup after an activation (Config.KillLeftovers): a proxy that is
// its container's PID 1 is the parent, or the reaper, of every process in
// it, so what is left besides the launcher when no activation runs was left
// behind by the action (a forgotten child, a fork bomb). Each is stopped
// first (a stopped process forks no more), then all are killed and the
// ones reparented to the proxy reaped, so that they free their pids. What
// cannot be cleaned (a zombie its parent, the launcher, does not reap) or a
// container whose pids limit was hit makes the answer ask the invoker to
// recycle the container (RecycleHeader).

// maxCleanupRounds bounds the stop-and-rescan loop against a process tree
// that forks faster than it is stopped.
const maxCleanupRounds = 200

// pidsEventFiles are where a container sees its pids cgroup's events
// (cgroup v1, then v2).
var pidsEventFiles = []string{"/sys/fs/cgroup/pids/pids.events", "/sys/fs/cgroup/pids.events"}

// procInfo is one process of /proc: its parent and state letter.
type procInfo struct {
	ppid  int
	state byte
}

// scanProcs reads every process's parent and state from /proc.
func scanProcs() map[int]procInfo {
	dir, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	names, err := dir.Readdirnames(-1) // unsorted, no stat: cheaper than ReadDir
	dir.Close()
	if err != nil {
		return nil
	}
	out := make(map[int]procInfo, len(names))
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + name + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		if info, ok := parseStat(b); ok {
			out[pid] = info
		}
	}
	return out
}

// parseStat reads the state and parent of a /proc/PID/stat line: "pid
// (comm) S ppid ...", where comm may hold spaces and parentheses.
func parseStat(b []byte) (procInfo, bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procInfo{}, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 || len(f[0]) != 1 {
		return procInfo{}, false
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return procInfo{}, false
	}
	return procInfo{ppid: ppid, state: f[0][0]}, true
}

// leftovers lists the descendants of self in procs but keep itself.
func leftovers(procs map[int]procInfo, self, keep int) []int {
	var out []int
	for pid := range procs {
		if pid == keep || pid == self {
			continue
		}
		for p, hops := pid, 0; p > 0 && hops < len(procs); hops++ {
			info, ok := procs[p]
			if !ok {
				break
			}
			if info.ppid == self {
				out = append(out, pid)
				break
			}
			p = info.ppid
		}
	}
	return out
}

// killLeftovers kills what the action left behind besides the launcher
// (keep) and reports whether the container should be recycled.
func (s *Server) killLeftovers(keep int) (recycle bool) {
	self := os.Getpid()
	left := leftovers(scanProcs(), self, keep)
	if len(left) == 0 { // the common case: one scan
		return s.pidsLimitHit()
	}
	stopped := map[int]bool{}
	for round := 0; round < maxCleanupRounds; round++ {
		if round > 0 {
			left = leftovers(scanProcs(), self, keep)
		}
		fresh := 0
		for _, pid := range left {
			if !stopped[pid] {
				_ = syscall.Kill(pid, syscall.SIGSTOP)
				stopped[pid] = true
				fresh++
			}
		}
		if fresh == 0 {
			break
		}
	}
	for pid := range stopped {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	// Reap the ones that are (or, their parent killed, become) this
	// process's children; each was killed, so each wait ends.
	for range maxCleanupRounds {
		reaped := 0
		procs := scanProcs()
		for _, pid := range leftovers(procs, self, keep) {
			if procs[pid].ppid != self {
				continue
			}
			if _, err := syscall.Wait4(pid, nil, 0, nil); err == nil {
				reaped++
			}
		}
		if reaped == 0 {
			break
		}
	}
	remaining := leftovers(scanProcs(), self, keep)
	hit := s.pidsLimitHit()
	if len(stopped) > 0 || hit {
		s.log.Warn("killed processes the action left behind", "count", len(stopped), "remaining", len(remaining), "pidsLimitHit", hit)
	}
	return len(remaining) > 0 || hit
}

// pidsLimitHit reports whether the container's pids limit refused a fork
// since the last call.
func (s *Server) pidsLimitHit() bool {
	for _, f := range pidsEventFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		n, ok := parsePidsMax(b)
		if !ok {
			return false
		}
		hit := n > s.pidsMaxEvents
		s.pidsMaxEvents = n
		return hit
	}
	return false
}

// parsePidsMax reads the "max N" line of pids.events.
func parsePidsMax(b []byte) (uint64, bool) {
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "max "); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
