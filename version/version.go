package version

import (
	"runtime/debug"
)

// Version is the release version, set by the build:
//
//	go build -ldflags "-X github.com/wispio/wisp/version.Version=v1.2.3"
//
// Empty means the module version from the build info, else "dev".
var Version string

// Commit is the VCS revision, set by the build with -X like Version for
// builds that Go does not stamp (-buildvcs=false, no .git in the build
// context); Go's vcs.revision wins when present.
var Commit string

// Info is one binary's build.
type Info struct {
	// Version is the release or module version; "dev" when neither is known.
	Version string `json:"version"`
	// Commit is the VCS revision the binary was built from, "unknown"
	// when the build did not stamp one.
	Commit string `json:"commit"`
	// Modified is true when the work tree had uncommitted changes.
	Modified bool `json:"modified"`
	// GoVersion is the toolchain that built the binary.
	GoVersion string `json:"go"`
}

// Get returns this binary's build.
func Get() Info {
	bi, ok := debug.ReadBuildInfo()
	return fromBuildInfo(Version, Commit, bi, ok)
}

// fromBuildInfo derives the Info from the link-time version and Go's build
// info (ok false when the binary has none).
func fromBuildInfo(linked, commit string, bi *debug.BuildInfo, ok bool) Info {
	info := Info{Version: linked, Commit: commit}
	if ok {
		info.GoVersion = bi.GoVersion
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Commit = s.Value
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
	}
	if info.Version == "" {
		info.Version = "dev"
	}
	if info.Commit == "" {
		info.Commit = "unknown"
	}
	return info
}

// String is "VERSION (COMMIT[, modified])".
func (i Info) String() string {
	s := i.Version + " (" + i.Commit
	if i.Modified {
		s += ", modified"
	}
	return s + ")"
}
