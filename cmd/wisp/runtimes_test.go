package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/wispio/wisp/actions/images"
	"github.com/wispio/wisp/internal/progress"
)

// TestBuildRuntimesProgress runs the build loop with a fake image builder:
// one counted line per runtime when stderr is no terminal, a redrawn line
// closed by a newline when it is, and the "ok" lines on stdout for the
// images that were built.
func TestBuildRuntimesProgress(t *testing.T) {
	rts := []images.Runtime{
		{Kind: "nodejs:20", Image: "wisp/action-nodejs-v20"},
		{Kind: "python:3", Image: "wisp/action-python-v3"},
		{Kind: "native", Image: "wisp/action-native"},
	}
	refused := errors.New("build image: no space left")
	tests := []struct {
		name      string
		tty       bool
		failOn    string
		wantErr   error
		wantOut   string
		wantSteps string // the progress output on stderr
	}{
		{
			name: "plain lines", wantOut: "ok: nodejs:20 is image wisp/action-nodejs-v20\nok: python:3 is image wisp/action-python-v3\nok: native is image wisp/action-native\n",
			wantSteps: "[1/3] build nodejs:20 (wisp/action-nodejs-v20)\n[2/3] build python:3 (wisp/action-python-v3)\n[3/3] build native (wisp/action-native)\n",
		},
		{
			name: "plain lines stop at a failure", failOn: "python:3", wantErr: refused,
			wantOut:   "ok: nodejs:20 is image wisp/action-nodejs-v20\n",
			wantSteps: "[1/3] build nodejs:20 (wisp/action-nodejs-v20)\n[2/3] build python:3 (wisp/action-python-v3)\n",
		},
		{
			name: "terminal", tty: true,
			wantOut: "ok: nodejs:20 is image wisp/action-nodejs-v20\nok: python:3 is image wisp/action-python-v3\nok: native is image wisp/action-native\n",
			wantSteps: "\rruntimes [....................] 0/3" +
				"\rruntimes [######..............] 1/3 build nodejs:20 (wisp/action-nodejs-v20)" +
				"\rruntimes [#############.......] 2/3 build python:3 (wisp/action-python-v3)  " +
				"\rruntimes [####################] 3/3 build native (wisp/action-native)" + strings.Repeat(" ", 5) +
				"\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			var ensured []string
			ensure := func(_ context.Context, rt images.Runtime) error {
				ensured = append(ensured, rt.Kind)
				if rt.Kind == tt.failOn {
					return refused
				}
				return nil
			}
			err := buildRuntimes(context.Background(), rts, ensure, progress.New(&errOut, tt.tty), &out)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v, want %v", err, tt.wantErr)
			}
			if out.String() != tt.wantOut {
				t.Errorf("stdout\n%q\nwant\n%q", out.String(), tt.wantOut)
			}
			if errOut.String() != tt.wantSteps {
				t.Errorf("stderr\n%q\nwant\n%q", errOut.String(), tt.wantSteps)
			}
			if tt.failOn == "" && len(ensured) != len(rts) {
				t.Errorf("ensured %v, want all of %d", ensured, len(rts))
			}
		})
	}
}

// TestSelectRuntimes keeps the kinds asked for, in the runtimes' order, all
// of them when none is asked for, and refuses a kind with no runtime here.
func TestSelectRuntimes(t *testing.T) {
	rts := []images.Runtime{{Kind: "nodejs:20"}, {Kind: "python:3"}, {Kind: "native"}}
	tests := []struct {
		name    string
		kinds   []string
		want    string
		wantErr string
	}{
		{name: "all", want: "nodejs:20 python:3 native"},
		{name: "some, in the runtimes' order", kinds: []string{"native", "nodejs:20"}, want: "nodejs:20 native"},
		{name: "twice", kinds: []string{"python:3", "python:3"}, want: "python:3"},
		{name: "unknown", kinds: []string{"nodejs:20", "swift:5"}, wantErr: `kind "swift:5": no runtime image can be built for it on this machine (available: nodejs:20, python:3, native)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := selectRuntimes(rts, tt.kinds)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, rt := range got {
				kinds = append(kinds, rt.Kind)
			}
			if strings.Join(kinds, " ") != tt.want {
				t.Errorf("kinds %q, want %q", kinds, tt.want)
			}
		})
	}
}
