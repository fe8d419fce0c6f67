package api

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/routing"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/store/bolt"
	"github.com/wispio/wisp/version"
)

type fixture struct {
	srv         *httptest.Server
	api         *Server
	store       store.Store
	auth, other entity.Credentials
}

// newFixture serves the API over a real embedded store with two namespaces
// and a controller that has no invoker (invocations answer 503).
func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "wisp.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{store: st, auth: entity.NewCredentials(), other: entity.NewCredentials()}
	for ns, c := range map[string]entity.Credentials{"me": f.auth, "them": f.other} {
		if err := st.CreateSubject(t.Context(), entity.Subject{Namespace: ns, UUID: c.UUID, KeyHash: entity.HashKey(c.Key)}); err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := DefaultConfig()
	cfg.Limits.CodeSize = 1000
	ctrl := routing.NewController("c", gochannel.NewGoChannel(gochannel.Config{}, watermill.NopLogger{}), routing.NewBalancer(), nil, log)
	f.api = New(cfg, st, routing.NewActivator(st, ctrl), log)
	f.srv = httptest.NewServer(f.api)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) do(t *testing.T, method, path, body string, creds *entity.Credentials) (int, map[string]any, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, f.srv.URL+path, strings.NewReader(body))
	if creds != nil {
		req.SetBasicAuth(creds.UUID, creds.Key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var obj map[string]any
	_ = json.Unmarshal(raw, &obj)
	return resp.StatusCode, obj, string(raw)
}

const nodeAction = `{"exec":{"kind":"nodejs:default","code":"function main(){return {}}"}}`

func TestErrors(t *testing.T) {
	f := newFixture(t)
	wrong := entity.Credentials{UUID: f.auth.UUID, Key: "wrong"}
	unknown := entity.NewCredentials()
	if code, _, _ := f.do(t, "PUT", "/api/v1/namespaces/_/actions/exists", nodeAction, &f.auth); code != 200 {
		t.Fatalf("setup: %d", code)
	}
	big := `{"exec":{"kind":"nodejs:20","code":"` + strings.Repeat("x", 1001) + `"}}`
	// 1.5 MB of annotations, over the 1 MB limit of parameters
	bigAnnotations := `"annotations":[{"key":"a","value":"` + strings.Repeat("x", 3<<19) + `"}]`
	deep := strings.Repeat("[", 9_999) + strings.Repeat("]", 9_999) // with its object, 10,000 levels
	tests := []struct {
		name, method, path, body string
		creds                    *entity.Credentials
		status                   int
		msg                      string
	}{
		{"no auth", "GET", "/api/v1/namespaces/_/actions", "", nil, 401, "requires authentication"},
		{"wrong key", "GET", "/api/v1/namespaces/_/actions", "", &wrong, 401, "authentication is invalid"},
		{"unknown uuid", "GET", "/api/v1/namespaces/_/actions", "", &unknown, 401, "authentication is invalid"},
		{"other namespace", "GET", "/api/v1/namespaces/them/actions/x", "", &f.auth, 403, "not authorized to access 'them/x'"},
		{"missing", "GET", "/api/v1/namespaces/_/actions/nope", "", &f.auth, 404, "does not exist"},
		{"malformed json", "PUT", "/api/v1/namespaces/_/actions/a", `{"exec":`, &f.auth, 400, "malformed"},
		{"wrong type", "PUT", "/api/v1/namespaces/_/actions/a", `{"exec":{"kind":5}}`, &f.auth, 400, "exec.kind"},
		{"unknown kind", "PUT", "/api/v1/namespaces/_/actions/a", `{"exec":{"kind":"nodejs:99","code":"x"}}`, &f.auth, 400, `exec.kind: unknown kind "nodejs:99"`},
		{"bad name", "PUT", "/api/v1/namespaces/_/actions/-a", nodeAction, &f.auth, 400, "name"},
		{"bad limit", "PUT", "/api/v1/namespaces/_/actions/a", `{"exec":{"kind":"nodejs:20","code":"x"},"limits":{"memory":1024}}`, &f.auth, 400, "limits.memory"},
		{"code too large", "PUT", "/api/v1/namespaces/_/actions/a", big, &f.auth, 413, "exec.code"},
		{"action annotations too large", "PUT", "/api/v1/namespaces/_/actions/bigann", `{"exec":{"kind":"nodejs:20","code":"x"},` + bigAnnotations + `}`, &f.auth, 413, "annotations: size 1572867 bytes exceeds the limit of 1048576 bytes"},
		{"package annotations too large", "PUT", "/api/v1/namespaces/_/packages/p", `{` + bigAnnotations + `}`, &f.auth, 413, "annotations: size"},
		{"native without code", "PUT", "/api/v1/namespaces/_/actions/a", `{"exec":{"kind":"native"}}`, &f.auth, 400, `exec.code: is missing for kind "native"`},
		{"native text code", "PUT", "/api/v1/namespaces/_/actions/a", `{"exec":{"kind":"native","code":"#!/bin/sh"}}`, &f.auth, 400, `exec.binary: kind "native" needs binary code`},
		{"exists", "PUT", "/api/v1/namespaces/_/actions/exists", nodeAction, &f.auth, 409, "resource already exists"},
		{"bad overwrite", "PUT", "/api/v1/namespaces/_/actions/a?overwrite=maybe", nodeAction, &f.auth, 400, "overwrite"},
		{"limit too large", "GET", "/api/v1/namespaces/_/actions?limit=201", "", &f.auth, 400, "limit"},
		{"invoke array body", "POST", "/api/v1/namespaces/_/actions/exists", `[1]`, &f.auth, 400, "body: must be a JSON object"},
		{"invoke too deep", "POST", "/api/v1/namespaces/_/actions/exists", `{"a":` + deep + `}`, &f.auth, 400, "deeper than the limit of 512 levels"},
		{"invoke just too deep", "POST", "/api/v1/namespaces/_/actions/exists", `{"a":` + deep[:512] + deep[len(deep)-512:] + `}`, &f.auth, 400, "deeper than the limit of 512 levels"},
		{"fire too deep", "POST", "/api/v1/namespaces/_/triggers/t", `{"a":` + deep + `}`, &f.auth, 400, "deeper than the limit"},
		{"put too deep", "PUT", "/api/v1/namespaces/_/actions/deep", `{"exec":{"kind":"nodejs:20","code":"x"},"parameters":[{"key":"a","value":` + deep + `}]}`, &f.auth, 400, "deeper than the limit"},
		{"invoke missing", "POST", "/api/v1/namespaces/_/actions/nope", `{}`, &f.auth, 404, "does not exist"},
		{"no invoker", "POST", "/api/v1/namespaces/_/actions/exists?blocking=true", `{}`, &f.auth, 503, "No invokers"},
		{"bad activation id", "GET", "/api/v1/namespaces/_/activations/xyz", "", &f.auth, 400, "activationId"},
		{"missing activation", "GET", "/api/v1/namespaces/_/activations/" + entity.NewActivationID(), "", &f.auth, 404, "does not exist"},
		{"bad since", "GET", "/api/v1/namespaces/_/activations?since=yesterday", "", &f.auth, 400, "since"},
		{"unknown route", "GET", "/api/v1/nothing", "", &f.auth, 404, "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body, raw := f.do(t, tt.method, tt.path, tt.body, tt.creds)
			if code != tt.status {
				t.Fatalf("status = %d, want %d (%s)", code, tt.status, raw)
			}
			msg, _ := body["error"].(string)
			tx, _ := body["code"].(string)
			if !strings.Contains(msg, tt.msg) || tx == "" {
				t.Fatalf("body = %s, want an error containing %q and a code", raw, tt.msg)
			}
		})
	}
}

func TestActionLifecycle(t *testing.T) {
	f := newFixture(t)
	code, created, raw := f.do(t, "PUT", "/api/v1/namespaces/_/actions/hello", nodeAction, &f.auth)
	if code != 200 || created["namespace"] != "me" || created["version"] != "0.0.1" {
		t.Fatalf("create = %d %s", code, raw)
	}
	if exec := created["exec"].(map[string]any); exec["kind"] != "nodejs:20" || exec["code"] == nil {
		t.Fatalf("exec = %v", exec)
	}
	code, updated, raw := f.do(t, "PUT", "/api/v1/namespaces/me/actions/hello?overwrite=true", `{"parameters":[{"key":"a","value":1}]}`, &f.auth)
	if code != 200 || updated["version"] != "0.0.2" || len(updated["parameters"].([]any)) != 1 {
		t.Fatalf("update = %d %s", code, raw)
	}
	_, got, _ := f.do(t, "GET", "/api/v1/namespaces/_/actions/hello?code=false", "", &f.auth)
	if exec := got["exec"].(map[string]any); exec["code"] != nil {
		t.Fatalf("code=false returned code: %v", exec)
	}
	_, _, list := f.do(t, "GET", "/api/v1/namespaces/_/actions?limit=0", "", &f.auth)
	if !strings.Contains(list, `"name":"hello"`) || strings.Contains(list, "function main") {
		t.Fatalf("list = %s", list)
	}
	_, count, _ := f.do(t, "GET", "/api/v1/namespaces/_/actions?count=true", "", &f.auth)
	if count["actions"] != float64(1) {
		t.Fatalf("count = %v", count)
	}
	if code, _, _ := f.do(t, "GET", "/api/v1/namespaces/_/actions/hello", "", &f.other); code != 404 {
		t.Fatalf("another namespace sees the action through _: %d", code)
	}
	if code, _, _ := f.do(t, "DELETE", "/api/v1/namespaces/_/actions/hello", "", &f.auth); code != 200 {
		t.Fatalf("delete = %d", code)
	}
	if code, _, _ := f.do(t, "GET", "/api/v1/namespaces/_/actions/hello", "", &f.auth); code != 404 {
		t.Fatalf("get after delete = %d", code)
	}
}

func TestInfoNeedsNoAuth(t *testing.T) {
	f := newFixture(t)
	code, body, raw := f.do(t, "GET", "/api/v1", "", nil)
	if code != 200 || body["build"] == nil || body["runtimes"] == nil {
		t.Fatalf("info = %d %s", code, raw)
	}
	build := version.Get()
	wisp, _ := body["wisp"].(map[string]any)
	if body["build"] != build.Version || body["buildno"] != build.Commit || wisp["commit"] != build.Commit || wisp["version"] != build.Version {
		t.Errorf("info build = %v %v %v, want %+v", body["build"], body["buildno"], body["wisp"], build)
	}
	code, _, raw = f.do(t, "GET", "/api/v1/namespaces", "", &f.auth)
	if code != 200 || raw != `["me"]` {
		t.Fatalf("namespaces = %d %s", code, raw)
	}
}
