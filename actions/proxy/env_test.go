package proxy

import (
	"strings"
	"testing"
)

// TestEnvResetBetweenActivations: an activation given an API key
// (provide-api-key) is followed by one without; the second must not see
// the first's key in its environment, and the init environment's __OW_*
// variables stay. For every runtime.
func TestEnvResetBetweenActivations(t *testing.T) {
	withKey := map[string]any{"value": map[string]any{}, "api_key": "uuid:secret", "namespace": "victim"}
	withoutKey := map[string]any{"value": map[string]any{}, "namespace": "attacker"}
	env := map[string]any{"__OW_API_HOST": "https://wisp.example"}
	for _, tt := range []struct {
		runtime     string
		code        map[string]any
		seen, clean string // answers with and without the key
	}{
		{RuntimeNodeJS, code(`function main() { return {key: process.env.__OW_API_KEY || null, ns: process.env.__OW_NAMESPACE, host: process.env.__OW_API_HOST} }`),
			`{"key":"uuid:secret","ns":"victim","host":"https://wisp.example"}`, `{"key":null,"ns":"attacker","host":"https://wisp.example"}`},
		{RuntimePython, code("import os\ndef main(a):\n    return {'key': os.environ.get('__OW_API_KEY'), 'ns': os.environ.get('__OW_NAMESPACE'), 'host': os.environ.get('__OW_API_HOST')}\n"),
			`{"key":"uuid:secret","ns":"victim","host":"https://wisp.example"}`, `{"key":null,"ns":"attacker","host":"https://wisp.example"}`},
		{RuntimeNative, binaryCode(nativeLoop(t)), `"apiKey":"uuid:secret"`, `"apiKey":""`},
	} {
		t.Run(tt.runtime, func(t *testing.T) {
			requireInterpreter(t, tt.runtime)
			ts := newTestServer(t, tt.runtime)
			ts.mustInit(t, with(tt.code, "env", env))
			check := func(body map[string]any, want string) {
				t.Helper()
				status, got := ts.post(t, "/run", body)
				ok := jsonEqual(got, want)
				if tt.runtime == RuntimeNative {
					ok = strings.Contains(got, want)
				}
				if status != 200 || !ok {
					t.Fatalf("run = %d %s, want %s\nstderr:\n%s", status, got, want, ts.stderr.String())
				}
			}
			check(withKey, tt.seen)
			check(withoutKey, tt.clean)
			check(withKey, tt.seen)
			check(withoutKey, tt.clean)
		})
	}
}
