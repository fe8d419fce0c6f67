package server

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/wispio/wisp/health"
)

// getProbe GETs a probe path of srv and returns its status and body.
func getProbe(t *testing.T, srv *Server, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + srv.Addr() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestProbes(t *testing.T) {
	srv, _ := startServer(t, nil)
	for path, want := range map[string]string{"/healthz": "ok", "/ping": "pong"} {
		if code, body := getProbe(t, srv, path); code != 200 || body != want {
			t.Errorf("%s = %d %q, want 200 %q", path, code, body, want)
		}
	}
	code, body := getProbe(t, srv, "/readyz")
	var ready struct {
		Checks map[string]health.Result `json:"checks"`
	}
	if err := json.Unmarshal([]byte(body), &ready); err != nil || code != 200 {
		t.Fatalf("readyz = %d %s (%v), want 200", code, body, err)
	}
	for _, name := range []string{"store", "bus", "feeds"} {
		if !ready.Checks[name].OK {
			t.Errorf("readyz check %s = %+v, want ok (body %s)", name, ready.Checks[name], body)
		}
	}

	// The store underneath goes away: readyz says so, healthz does not care.
	if err := srv.store.Store.Close(); err != nil {
		t.Fatal(err)
	}
	code, body = getProbe(t, srv, "/readyz")
	var failed struct {
		Error  string                   `json:"error"`
		Checks map[string]health.Result `json:"checks"`
	}
	if err := json.Unmarshal([]byte(body), &failed); err != nil || code != 503 {
		t.Fatalf("readyz with the store closed = %d %s (%v), want 503", code, body, err)
	}
	if !strings.Contains(failed.Error, "store: ") || failed.Checks["store"].OK || !failed.Checks["bus"].OK {
		t.Errorf("readyz with the store closed = %s, want the store named as failed, the bus ok", body)
	}
	if code, _ := getProbe(t, srv, "/healthz"); code != 200 {
		t.Errorf("healthz with the store closed = %d, want 200", code)
	}
}
