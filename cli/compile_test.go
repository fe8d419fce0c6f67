package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/wispio/wisp/internal/testenv"
)

// TestActionCreateCompilesAhead: a .go artifact goes as the executable
// the go runtime would build (no container compiles it), a .java one as a
// jar of its classes, and a compile error fails the command with the
// compiler's message.
func TestActionCreateCompilesAhead(t *testing.T) {
	tests := []struct {
		name, tool, file, code string
		args                   []string
		kind, magic, wantErr   string
	}{
		{name: "go", tool: "go", file: "hello.go", kind: "go:default", magic: "\x7fELF",
			code: "package main\n\nfunc Greet(obj map[string]interface{}) map[string]interface{} { return obj }\n", args: []string{"--main", "greet"}},
		{name: "go compile error", tool: "go", file: "bad.go", wantErr: "undefined: nope",
			code: "package main\n\nfunc Main(obj map[string]interface{}) map[string]interface{} { return nope }\n"},
		{name: "java", tool: "javac", file: "Hello.java", kind: "java:default", magic: "PK\x03\x04",
			code: "public class Hello { public static com.google.gson.JsonObject main(com.google.gson.JsonObject a) { return a; } }\n", args: []string{"--main", "Hello"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := exec.LookPath(tt.tool)
			testenv.Require(t, tt.tool, err == nil, "not on PATH")
			t.Setenv("WISP_NO_PRECOMPILE", "")
			inDir(t, map[string]string{tt.file: tt.code})
			var script []exchange
			if tt.wantErr == "" {
				script = []exchange{{method: "PUT", path: "/api/v1/namespaces/_/actions/hello", query: "overwrite=false", status: 200, reply: `{}`}}
			}
			api, srv := newFakeAPI(t, script...)
			isolate(t, propsFor(srv))
			got := runCLI(context.Background(), t, "", append([]string{"action", "create", "hello", tt.file}, tt.args...)...)
			if tt.wantErr != "" {
				if got.err == nil || !strings.Contains(got.stderr, tt.wantErr) {
					t.Fatalf("err = %v, stderr = %q, want %q", got.err, got.stderr, tt.wantErr)
				}
				return
			}
			if got.err != nil || len(api.requests) != 1 {
				t.Fatalf("err = %v, stderr %q, requests %d", got.err, got.stderr, len(api.requests))
			}
			var body struct {
				Exec struct {
					Kind, Code string
					Binary     bool
				}
			}
			if err := json.Unmarshal([]byte(api.requests[0].body), &body); err != nil {
				t.Fatal(err)
			}
			code, err := base64.StdEncoding.DecodeString(body.Exec.Code)
			if err != nil || body.Exec.Kind != tt.kind || !body.Exec.Binary || !bytes.HasPrefix(code, []byte(tt.magic)) {
				t.Fatalf("exec = %s %v %q…, want %s binary starting %q", body.Exec.Kind, body.Exec.Binary, code[:min(len(code), 8)], tt.kind, tt.magic)
			}
		})
	}
}
