package process

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Isolation runs each container's processes as an unprivileged user of
// their own (no supplementary groups, no capabilities in any set,
// no_new_privs, killed with Wisp) under resource limits. Wisp must run as
// root; the switch is made by util-linux's prlimit and setpriv, which wrap
// the launcher and exec it in the same process.
type Isolation struct {
	// UIDBase and UIDCount are the user ids containers may run as, each
	// with the group of the same number. The range is cut in blocks of
	// UIDBlock ids; a backend claims a free block with a lock file in
	// LockDir (so that two Wisps on one host never share a user) and kills
	// what still runs as its users (strays of a Wisp that crashed). The
	// default range starts at 0x70000000, above the ranges systemd hands to
	// containers.
	UIDBase, UIDCount uint32
	LockDir           string
	// Processes caps the processes and threads of one container
	// (RLIMIT_NPROC; the kernel counts them per user, so per container).
	Processes int
	// OpenFiles caps the open files of each process (RLIMIT_NOFILE).
	OpenFiles int
	// FileSizeMB caps the size of any file a process writes (RLIMIT_FSIZE).
	FileSizeMB int
	// NodeAddressSpaceMB is added to the action's memory limit to make the
	// address-space limit (RLIMIT_AS) of Node.js launchers: V8 reserves
	// about 800 MB of address space before running a line. Other runtimes
	// get OtherAddressSpaceMB.
	NodeAddressSpaceMB, OtherAddressSpaceMB int
}

// DefaultIsolation is the isolation used when Wisp runs as root.
func DefaultIsolation() Isolation {
	return Isolation{
		UIDBase: 0x70000000, UIDCount: 1 << 24, LockDir: "/run/wisp-uids",
		Processes: 128, OpenFiles: 1024, FileSizeMB: 512,
		NodeAddressSpaceMB: 1024, OtherAddressSpaceMB: 64,
	}
}

// sandbox is the resolved Isolation: the wrapper binaries found.
type sandbox struct {
	Isolation
	prlimit, setpriv string
	// nodeNoTrap says node takes --disable-wasm-trap-handler: without it
	// WebAssembly (fetch's HTTP parser) reserves about 10 GB of address
	// space per memory, so Node.js gets no address-space limit.
	nodeNoTrap bool
}

// nodeNoTrapFlag makes V8 bounds-check WebAssembly memory instead of
// reserving guard regions.
const nodeNoTrapFlag = "--disable-wasm-trap-handler"

// probeNode reports whether the node at path accepts nodeNoTrapFlag.
func probeNode(path string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, path, nodeNoTrapFlag, "-e", "0").Run() == nil
}

func newSandbox(iso Isolation) (*sandbox, error) {
	if iso.UIDCount < UIDBlock || iso.UIDBase == 0 || uint64(iso.UIDBase)+uint64(iso.UIDCount) > 1<<32-1 {
		return nil, fmt.Errorf("process backend isolation: user ids %d+%d: need a non-zero base and at least %d ids within 32 bits", iso.UIDBase, iso.UIDCount, UIDBlock)
	}
	if iso.LockDir == "" {
		return nil, errors.New("process backend isolation: LockDir is required")
	}
	s := &sandbox{Isolation: iso}
	for _, tool := range []struct {
		name string
		path *string
	}{{"prlimit", &s.prlimit}, {"setpriv", &s.setpriv}} {
		p, err := exec.LookPath(tool.name)
		if err != nil {
			return nil, fmt.Errorf("process backend as root: %s (util-linux) is needed to run actions as an unprivileged user: %w", tool.name, err)
		}
		*tool.path = p
	}
	return s, nil
}

// UIDBlock is how many user ids one backend claims.
const UIDBlock = 1 << 16

// claimBlock locks a free block of user ids in LockDir and kills every
// process still running as one of them. The lock holds until lock is
// closed, or the process dies.
func (s *sandbox) claimBlock() (lock *os.File, base uint32, err error) {
	if err := os.MkdirAll(s.LockDir, 0o700); err != nil {
		return nil, 0, fmt.Errorf("user id locks: %w", err)
	}
	fi, err := os.Lstat(s.LockDir)
	if err != nil {
		return nil, 0, fmt.Errorf("user id locks: %w", err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !fi.IsDir() || fi.Mode().Perm()&0o022 != 0 || (ok && st.Uid != 0) {
		return nil, 0, fmt.Errorf("user id locks: %s must be a folder of root's that only root may write", s.LockDir)
	}
	blocks := s.UIDCount / UIDBlock
	start := rand.Uint32N(blocks)
	for i := range blocks {
		b := (start + i) % blocks
		f, err := os.OpenFile(filepath.Join(s.LockDir, fmt.Sprintf("block-%d-%d", s.UIDBase, b)), os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
		if err != nil {
			return nil, 0, fmt.Errorf("user id locks: %w", err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			continue
		}
		base := s.UIDBase + b*UIDBlock
		killUsers(base, base+UIDBlock)
		return f, base, nil
	}
	return nil, 0, fmt.Errorf("user id locks: all %d blocks of user ids from %d are taken", blocks, s.UIDBase)
}

// wrap makes cmd run as uid under the limits: prlimit sets them, setpriv
// drops to uid and execs the original program, all in cmd's process. The
// code folder (cmd.Dir, written by the proxy as root) is handed to uid, as
// the action's own files are in a container.
func (s *sandbox) wrap(cmd *exec.Cmd, uid uint32, memoryMB int, runtime string) error {
	if cmd.Dir != "" {
		if err := chownTree(cmd.Dir, uid); err != nil {
			return err
		}
	}
	args := []string{s.prlimit,
		"--nproc=" + strconv.Itoa(s.Processes),
		"--nofile=" + strconv.Itoa(s.OpenFiles),
		"--fsize=" + strconv.FormatInt(int64(s.FileSizeMB)<<20, 10),
		"--core=0"}
	switch {
	case runtime != "nodejs":
		args = append(args, "--as="+strconv.FormatInt(int64(memoryMB+s.OtherAddressSpaceMB)<<20, 10))
	case s.nodeNoTrap:
		args = append(args, "--as="+strconv.FormatInt(int64(memoryMB+s.NodeAddressSpaceMB)<<20, 10))
	}
	id := strconv.FormatUint(uint64(uid), 10)
	args = append(args, "--", s.setpriv,
		"--reuid="+id, "--regid="+id, "--clear-groups",
		"--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all",
		"--no-new-privs", "--pdeathsig=KILL",
		"--", cmd.Path)
	if runtime == "nodejs" && s.nodeNoTrap {
		args = append(args, nodeNoTrapFlag)
	}
	cmd.Args = append(args, cmd.Args[1:]...)
	cmd.Path = s.prlimit
	return nil
}

// chownTree gives dir and everything in it to uid.
func chownTree(dir string, uid uint32) error {
	err := filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(uid), int(uid))
	})
	if err != nil {
		return fmt.Errorf("hand the code folder to the action user %d: %w", uid, err)
	}
	return nil
}

// killUser kills every process of uid, including those that left the
// launcher's process group.
func killUser(uid uint32) { killUsers(uid, uid+1) }

// killUsers kills every process whose real user id is in [lo, hi); it
// repeats while it finds some, as a process may fork between the scan and
// the kill (RLIMIT_NPROC bounds that).
func killUsers(lo, hi uint32) {
	for range 20 {
		pids := processesOf(lo, hi)
		if len(pids) == 0 {
			return
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL) // ESRCH: already gone
		}
	}
}

// processesOf lists the live processes whose real user id is in [lo, hi),
// from /proc.
func processesOf(lo, hi uint32) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		if err != nil {
			continue
		}
		_, rest, ok := strings.Cut(string(b), "\nUid:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		uid, err := strconv.ParseUint(fields[0], 10, 32)
		// A zombie is gone already; killing it again does nothing.
		if err == nil && uint32(uid) >= lo && uint32(uid) < hi && !strings.Contains(string(b), "\nState:\tZ") {
			pids = append(pids, pid)
		}
	}
	return pids
}

// reachable reports whether a user without privileges can run the file
// at path: every folder above it searchable by others, the file
// executable by others.
func reachable(path string) bool {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return false
	}
	real, err = filepath.Abs(real)
	if err != nil {
		return false
	}
	fi, err := os.Stat(real)
	if err != nil || fi.Mode().Perm()&0o001 == 0 {
		return false
	}
	return searchable(filepath.Dir(real))
}

// searchable reports whether others may traverse dir and every folder
// above it.
func searchable(dir string) bool {
	for {
		fi, err := os.Stat(dir)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return true
		}
		dir = parent
	}
}

// isolatedInterpreter picks the first of the candidates an action user can
// run; "" when none can.
func isolatedInterpreter(candidates ...string) string {
	for _, c := range candidates {
		if c == "" {
			continue
		}
		p, err := exec.LookPath(c)
		if err == nil && reachable(p) {
			return p
		}
	}
	return ""
}

var errNoInterpreter = errors.New("no interpreter that an unprivileged action user can run")
