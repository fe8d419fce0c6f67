package docker

import (
	"os"
	"path/filepath"
	"strings"
	"time"
)

// freezer freezes and thaws a container's cgroup by writing its control
// file, which costs a few milliseconds less than the engine's pause API.
// Each method reports false when the cgroup file is not reachable, so the
// caller falls back to the API.
type freezer struct {
	// paths lists candidate control files for a container id, with the
	// value that freezes and the one that thaws.
	candidates []freezeFile
}

type freezeFile struct {
	pattern        string // %s is the container id
	frozen, thawed string
}

func newFreezer() freezer {
	return freezer{candidates: []freezeFile{
		{"/sys/fs/cgroup/freezer/docker/%s/freezer.state", "FROZEN", "THAWED"},                    // v1, cgroupfs driver
		{"/sys/fs/cgroup/freezer/system.slice/docker-%s.scope/freezer.state", "FROZEN", "THAWED"}, // v1, systemd driver
		{"/sys/fs/cgroup/system.slice/docker-%s.scope/cgroup.freeze", "1", "0"},                   // v2, systemd driver
		{"/sys/fs/cgroup/docker/%s/cgroup.freeze", "1", "0"},                                      // v2, cgroupfs driver
	}}
}

func (f freezer) file(id string) (freezeFile, string, bool) {
	for _, c := range f.candidates {
		p := strings.Replace(c.pattern, "%s", id, 1)
		if _, err := os.Stat(p); err == nil {
			return c, p, true
		}
	}
	return freezeFile{}, "", false
}

// freeze writes the frozen value and, on cgroup v1, waits until the state
// reads FROZEN (FREEZING comes first).
func (f freezer) freeze(id string) bool {
	c, p, ok := f.file(id)
	if !ok || os.WriteFile(p, []byte(c.frozen), 0) != nil {
		return false
	}
	if filepath.Base(p) != "freezer.state" {
		return true
	}
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(p)
		if err != nil {
			return false
		}
		if strings.TrimSpace(string(b)) == c.frozen {
			return true
		}
		time.Sleep(100 * time.Microsecond)
	}
	return false
}

func (f freezer) thaw(id string) bool {
	c, p, ok := f.file(id)
	return ok && os.WriteFile(p, []byte(c.thawed), 0) == nil
}

// state reads the freezer state of a container ("" when unreachable).
func (f freezer) state(id string) string {
	_, p, ok := f.file(id)
	if !ok {
		return ""
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// Freeze freezes the cgroup of the container with the full id directly,
// as the backend does on pause; false when the cgroup is out of reach.
// It is for tools measuring the raw path (bench/).
func Freeze(id string) bool { return newFreezer().freeze(id) }

// Thaw undoes Freeze.
func Thaw(id string) bool { return newFreezer().thaw(id) }
