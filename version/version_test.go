package version

import (
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	stamped := &debug.BuildInfo{
		GoVersion: "go1.26.0",
		Main:      debug.Module{Path: "github.com/wispio/wisp", Version: "v0.4.0"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "abc123"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	devel := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}
	tests := []struct {
		name   string
		linked string
		commit string
		bi     *debug.BuildInfo
		ok     bool
		want   Info
	}{
		{"linked version wins", "v1.2.3", "", stamped, true, Info{Version: "v1.2.3", Commit: "abc123", Modified: true, GoVersion: "go1.26.0"}},
		{"module version", "", "", stamped, true, Info{Version: "v0.4.0", Commit: "abc123", Modified: true, GoVersion: "go1.26.0"}},
		{"devel build", "", "", devel, true, Info{Version: "dev", Commit: "unknown"}},
		{"vcs stamp wins over linked commit", "", "def456", stamped, true, Info{Version: "v0.4.0", Commit: "abc123", Modified: true, GoVersion: "go1.26.0"}},
		{"linked commit", "v1", "def456", devel, true, Info{Version: "v1", Commit: "def456"}},
		{"no build info", "", "", nil, false, Info{Version: "dev", Commit: "unknown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fromBuildInfo(tt.linked, tt.commit, tt.bi, tt.ok); got != tt.want {
				t.Errorf("fromBuildInfo = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestInfoString(t *testing.T) {
	if got, want := (Info{Version: "v1", Commit: "abc", Modified: true}).String(), "v1 (abc, modified)"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}
