package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/wispio/wisp/client"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/internal/testenv"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/throttle"
)

// tenant is one namespace of a test server with its key and client.
type tenant struct {
	ns    string
	creds entity.Credentials
	base  string
	c     *client.Client
}

// startTenants runs a whole Wisp with one subject per name.
func startTenants(t testing.TB, names ...string) (*Server, map[string]*tenant) {
	t.Helper()
	return startTenantsWith(t, nil, names...)
}

// startTenantsWith is startTenants with configure, when not nil, applied
// to the configuration.
func startTenantsWith(t testing.TB, configure func(*Config), names ...string) (*Server, map[string]*tenant) {
	t.Helper()
	testenv.Node(t)
	cfg := DefaultConfig()
	cfg.Invoker = BackendProcess // tests that want Docker say so
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Throttles = throttle.Limits{} // benchmarks invoke far more than 60 times a minute
	if configure != nil {
		configure(&cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("WISP_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	tenants := map[string]*tenant{}
	for _, n := range names {
		tenants[n] = &tenant{ns: n, creds: entity.NewCredentials()}
	}
	srv, err := Start(context.Background(), cfg, log, func(ctx context.Context, st store.Store) error {
		for _, tn := range tenants {
			if err := st.CreateSubject(ctx, entity.Subject{Namespace: tn.ns, UUID: tn.creds.UUID, KeyHash: entity.HashKey(tn.creds.Key)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("close server: %v", err)
		}
	})
	for _, tn := range tenants {
		tn.base = "http://" + srv.Addr() + "/api/v1"
		tn.c = client.New(client.Config{APIHost: "http://" + srv.Addr(), Auth: tn.creds.String()})
	}
	return srv, tenants
}

// call sends one API request (path below /api/v1) with the tenant's key and
// returns the status and body.
func (tn *tenant) call(t testing.TB, method, path string, body any) (int, json.RawMessage) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, tn.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(tn.creds.UUID, tn.creds.Key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

// must sends a request and fails the test unless it answers want.
func (tn *tenant) must(t testing.TB, want int, method, path string, body any) json.RawMessage {
	t.Helper()
	status, out := tn.call(t, method, path, body)
	if status != want {
		t.Fatalf("%s %s as %s = %d %s, want %d", method, path, tn.ns, status, out, want)
	}
	return out
}

// action creates or replaces a Node.js action.
func (tn *tenant) action(t testing.TB, name, code string, params map[string]any, annotations map[string]any) {
	t.Helper()
	body := map[string]any{"exec": map[string]any{"kind": "nodejs:default", "code": code}}
	if params != nil {
		body["parameters"] = keyValues(params)
	}
	if annotations != nil {
		body["annotations"] = keyValues(annotations)
	}
	tn.must(t, http.StatusOK, http.MethodPut, "/namespaces/_/actions/"+name+"?overwrite=true", body)
}

// sequence creates or replaces a sequence action.
func (tn *tenant) sequence(t testing.TB, name string, components ...string) {
	t.Helper()
	tn.must(t, http.StatusOK, http.MethodPut, "/namespaces/_/actions/"+name+"?overwrite=true",
		map[string]any{"exec": map[string]any{"kind": "sequence", "components": components}})
}

// invoke invokes blocking and returns the activation (also when it failed).
func (tn *tenant) invoke(t testing.TB, path string, params any) *client.Activation {
	t.Helper()
	status, out := tn.call(t, http.MethodPost, path+"?blocking=true", params)
	if status != http.StatusOK && status != http.StatusBadGateway {
		t.Fatalf("invoke %s as %s = %d %s", path, tn.ns, status, out)
	}
	var act client.Activation
	if err := json.Unmarshal(out, &act); err != nil {
		t.Fatalf("invoke %s: %v in %s", path, err, out)
	}
	return &act
}

// activation waits for the record of id to be stored and returns it.
func (tn *tenant) activation(t testing.TB, id string) *client.Activation {
	t.Helper()
	var act *client.Activation
	waitFor(t, "activation "+id, func() bool {
		a, _, err := tn.c.GetActivation(context.Background(), id)
		act = a
		return err == nil
	})
	return act
}

func keyValues(m map[string]any) []map[string]any {
	out := make([]map[string]any, 0, len(m))
	for k, v := range m {
		out = append(out, map[string]any{"key": k, "value": v})
	}
	return out
}

// resultOf decodes an activation's result into a map.
func resultOf(t testing.TB, a *client.Activation) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.Response.Result, &m); err != nil {
		t.Fatalf("result %s: %v", a.Response.Result, err)
	}
	return m
}

// jsonEqual compares a JSON document with a Go value by their JSON forms.
func jsonEqual(t testing.TB, got json.RawMessage, want any) bool {
	t.Helper()
	var g, w any
	wb, _ := json.Marshal(want)
	if json.Unmarshal(got, &g) != nil || json.Unmarshal(wb, &w) != nil {
		return false
	}
	gb, _ := json.Marshal(g)
	wb, _ = json.Marshal(w)
	return bytes.Equal(gb, wb)
}
