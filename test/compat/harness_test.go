//go:build unix

package compat

import (
	"slices"
	"testing"
)

func TestLastLineKey(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		want    string
		wantErr bool
	}{
		{name: "only the key", out: "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP\n",
			want: "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP"},
		{name: "after other lines", out: "created namespace compat\nsubject: compat\nuuid-1:key-1\n\n", want: "uuid-1:key-1"},
		{name: "no colon", out: "created\n", wantErr: true},
		{name: "empty", out: "", wantErr: true},
		{name: "sentence last", out: "uuid:key\ndone: ok then\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := lastLineKey(tt.out)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("lastLineKey(%q) = %q, %v; want %q, error %v", tt.out, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestCleanEnv(t *testing.T) {
	in := []string{"PATH=/bin", "HTTP_PROXY=http://p", "https_proxy=x", "NO_PROXY=*", "__OW_API_HOST=h",
		"WISP_AUTH=a", "HOME=/root", "CI=true", "WISP_REQUIRE_SERVICES=1"}
	got := cleanEnv(in)
	want := []string{"PATH=/bin", "HOME=/root", "CI=true"}
	if !slices.Equal(got, want) {
		t.Fatalf("cleanEnv = %q, want %q", got, want)
	}
}
