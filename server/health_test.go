package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wispio/wisp/health"
	"github.com/wispio/wisp/internal/testenv"
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

// On a NATS bus, readyz checks the bus connection: a bus that is gone is
// named.
func TestReadyzChecksNATS(t *testing.T) {
	natsURL := testenv.NATS(t)
	srv, _ := startServer(t, func(c *Config) {
		c.Cluster.BusURL = natsURL
		c.Cluster.BusPrefix = fmt.Sprintf("ready%d", time.Now().UnixNano())
		c.Cluster.ID = "n1"
	})
	if code, body := getProbe(t, srv, "/readyz"); code != 200 {
		t.Fatalf("readyz on NATS = %d %s, want 200", code, body)
	}
	if err := srv.bus.Close(); err != nil {
		t.Fatal(err)
	}
	code, body := getProbe(t, srv, "/readyz")
	if code != 503 || !strings.Contains(body, `"error":"not ready: bus: nats connection is`) {
		t.Errorf("readyz with the bus closed = %d %s, want 503 naming the bus", code, body)
	}
}
