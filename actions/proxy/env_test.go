package proxy

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
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

// TestSecretRequired: with a secret configured, /init and /run without it
// (or with another) answer 403 and run nothing; with it they work.
func TestSecretRequired(t *testing.T) {
	requireInterpreter(t, RuntimeNodeJS)
	ts := &testServer{stdout: &logBuffer{}, stderr: &logBuffer{}}
	s, err := New(Config{Runtime: RuntimeNodeJS, WorkDir: filepath.Join(t.TempDir(), "work"), Stdout: ts.stdout, Stderr: ts.stderr, Secret: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ts.Server = s
	post := func(path, secret string, body any) (int, string) {
		b, _ := json.Marshal(body)
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(b))
		if secret != "" {
			req.Header.Set(SecretHeader, secret)
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	initBody := map[string]any{"value": code(`function main() { console.log("ran"); return {ran: true} }`)}
	runBody := map[string]any{"value": map[string]any{}}
	for _, tt := range []struct {
		path, secret string
		body         any
		status       int
	}{
		{"/init", "", initBody, http.StatusForbidden},
		{"/init", "wrong", initBody, http.StatusForbidden},
		{"/init", "s3cret", initBody, http.StatusOK},
		{"/run", "", runBody, http.StatusForbidden},
		{"/run", "s3cre", runBody, http.StatusForbidden},
		{"/run", "s3cret", runBody, http.StatusOK},
	} {
		if status, body := post(tt.path, tt.secret, tt.body); status != tt.status {
			t.Fatalf("%s with secret %q = %d %s, want %d", tt.path, tt.secret, status, body, tt.status)
		}
	}
	if n := strings.Count(ts.stdout.String(), "ran\n"); n != 1 {
		t.Fatalf("the action ran %d times, want once (only the authorised /run)", n)
	}
}
