package process

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
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
	// UIDBase is the first user id: container n runs as UIDBase + n mod
	// UIDCount, with the group of the same number. The default range starts
	// at 0x70000000, above the ranges systemd hands to containers.
	UIDBase, UIDCount uint32
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
		UIDBase: 0x70000000, UIDCount: 1 << 24,
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
	if iso.UIDCount == 0 || iso.UIDBase == 0 || uint64(iso.UIDBase)+uint64(iso.UIDCount) > 1<<32-1 {
		return nil, fmt.Errorf("process backend isolation: user ids %d+%d: need a non-zero base and count within 32 bits", iso.UIDBase, iso.UIDCount)
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

// uid is the user (and group) of container n.
func (s *sandbox) uid(n int64) uint32 {
	return s.UIDBase + uint32(uint64(n)%uint64(s.UIDCount))
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
// launcher's process group; it repeats while it finds some, as a process
// may fork between the scan and the kill (RLIMIT_NPROC bounds that).
func killUser(uid uint32) {
	for range 20 {
		pids := processesOf(uid)
		if len(pids) == 0 {
			return
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL) // ESRCH: already gone
		}
	}
}

// processesOf lists the processes whose real user id is uid, from /proc.
func processesOf(uid uint32) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	want := strconv.FormatUint(uint64(uid), 10)
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
		// A zombie is gone already; killing it again does nothing.
		if len(fields) > 0 && fields[0] == want && !strings.Contains(string(b), "\nState:\tZ") {
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
