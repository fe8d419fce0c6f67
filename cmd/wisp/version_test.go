package main

import (
	"bytes"
	"testing"

	"github.com/wispio/wisp/version"
)

func TestVersionCommand(t *testing.T) {
	info := version.Info{Version: "v1.2.3", Commit: "abc123", Modified: true, GoVersion: "go1.26.0"}
	tests := []struct {
		args []string
		want string
	}{
		{nil, "wisp v1.2.3 (abc123, modified)\ngo go1.26.0\n"},
		{[]string{"--json"}, "{\n  \"version\": \"v1.2.3\",\n  \"commit\": \"abc123\",\n  \"modified\": true,\n  \"go\": \"go1.26.0\"\n}\n"},
	}
	for _, tt := range tests {
		cmd := newVersionCommand(func() version.Info { return info })
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetArgs(tt.args)
		if err := cmd.Execute(); err != nil {
			t.Fatalf("version %v: %v", tt.args, err)
		}
		if out.String() != tt.want {
			t.Errorf("version %v = %q, want %q", tt.args, out.String(), tt.want)
		}
	}
}
