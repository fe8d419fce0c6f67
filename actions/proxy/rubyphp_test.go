package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestRubyAndPHP runs the ruby and php launchers with this machine's
// interpreters: a result with the __OW_ variables an activation brings,
// none left for the next one, a thrown error, a result that is not a Hash
// or array, and init errors with the interpreter's reason.
func TestRubyAndPHP(t *testing.T) {
	tests := []struct {
		runtime, code, thrower, scalar, syntax string
		thrown                                 func(status int, body string) bool
	}{
		{
			runtime: RuntimeRuby,
			code:    "def main(args)\n  puts \"hi\"\n  { \"n\" => args[\"n\"], \"key\" => ENV[\"__OW_API_KEY\"].to_s }\nend\n",
			thrower: "def main(args)\n  raise \"kaboom\"\nend\n",
			scalar:  "def main(args)\n  42\nend\n",
			syntax:  "def main(args\n",
			thrown:  func(status int, body string) bool { return status == 200 && jsonEqual(body, `{"error":"kaboom"}`) },
		},
		{
			runtime: RuntimePHP,
			code:    "<?php\nfunction main(array $args) : array {\n    echo \"hi\\n\";\n    return ['n' => $args['n'], 'key' => (string)getenv('__OW_API_KEY')];\n}\n",
			thrower: "<?php\nfunction main(array $args) : array {\n    throw new Exception('kaboom');\n}\n",
			scalar:  "<?php\nfunction main(array $args) {\n    return 42;\n}\n",
			syntax:  "<?php\nfunction main(array $args {\n",
			thrown: func(status int, body string) bool {
				return status == http.StatusBadGateway && strings.Contains(body, "An error has occurred: kaboom")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.runtime, func(t *testing.T) {
			ts := newTestServer(t, tt.runtime)
			ts.mustInit(t, code(tt.code))
			status, body := ts.post(t, "/run", map[string]any{"value": map[string]any{"n": 1}, "api_key": "secret"})
			if status != 200 || !jsonEqual(body, `{"n":1,"key":"secret"}`) {
				t.Fatalf("run = %d %s\nstderr: %s", status, body, ts.stderr.String())
			}
			if !strings.Contains(ts.stdout.String(), "hi\n"+Sentinel) {
				t.Fatalf("stdout = %q, want the log line before the sentinel", ts.stdout.String())
			}
			if status, body = ts.post(t, "/run", map[string]any{"value": map[string]any{"n": 2}}); status != 200 || !jsonEqual(body, `{"n":2,"key":""}`) {
				t.Fatalf("second run = %d %s, want no API key left from the first", status, body)
			}

			thrower := newTestServer(t, tt.runtime)
			thrower.mustInit(t, code(tt.thrower))
			if status, body := thrower.post(t, "/run", map[string]any{"value": map[string]any{}}); !tt.thrown(status, body) {
				t.Fatalf("thrown = %d %s", status, body)
			}

			scalar := newTestServer(t, tt.runtime)
			scalar.mustInit(t, code(tt.scalar))
			if status, body := scalar.post(t, "/run", map[string]any{"value": map[string]any{}}); status != http.StatusBadGateway || body != errorBody("The action did not return a dictionary or array.")+"\n" {
				t.Fatalf("scalar = %d %s", status, body)
			}

			syntax := newTestServer(t, tt.runtime)
			status, body = syntax.post(t, "/init", map[string]any{"value": code(tt.syntax)})
			if status != http.StatusBadGateway || !strings.Contains(body, msgNoBinary) || !strings.Contains(body, "syntax error") {
				t.Fatalf("syntax error init = %d %s", status, body)
			}
		})
	}
}
