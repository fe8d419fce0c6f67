package server

import (
	"encoding/json"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/wispio/wisp/internal/testenv"
)

// allowLoopback opens 127.0.0.1 to the tenants' connections: the test
// suite's mosquitto and pouchdb-server listen there, which the default
// egress policy denies.
func allowLoopback(cfg *Config) {
	cfg.EgressAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
}

// builtinError invokes a system action, blocking, and returns its
// activation's error message.
func builtinError(t *testing.T, a *rawAPI, action string, params map[string]any) string {
	t.Helper()
	_, body := a.do("POST", "whisk.system/actions/"+action+"?blocking=true", params)
	var act struct {
		Response struct {
			Result struct {
				Error string `json:"error"`
			} `json:"result"`
		} `json:"response"`
	}
	if err := json.Unmarshal(body, &act); err != nil {
		t.Fatalf("invoke %s: %s", action, body)
	}
	return act.Response.Result.Error
}

// TestEgressPolicy: with the default policy, a tenant's couchdb actions
// cannot reach loopback (by address or by a name resolving there), the
// metadata address or a private one; the error is exactly the policy's
// message. The allow list opens what it names.
func TestEgressPolicy(t *testing.T) {
	couchURL := testenv.CouchDB(t)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(couchURL, "http://"))
	_, deny := startTriggerServer(t, nil)
	_, allow := startTriggerServer(t, allowLoopback)
	for _, tc := range []struct {
		name, url string
		want      []string
	}{
		{"Loopback", couchURL, []string{"egress to 127.0.0.1:" + port + " denied by policy"}},
		{"Localhost", "http://localhost:" + port, []string{"egress to 127.0.0.1:" + port + " denied by policy", "egress to [::1]:" + port + " denied by policy"}},
		{"IPv6Loopback", "http://[::1]:" + port, []string{"egress to [::1]:" + port + " denied by policy"}},
		{"CloudMetadata", "http://169.254.169.254/latest", []string{"egress to 169.254.169.254:80 denied by policy"}},
		{"Private", "http://10.0.0.1:5984", []string{"egress to 10.0.0.1:5984 denied by policy"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := builtinError(t, deny, "couchdb/read", map[string]any{"url": tc.url, "dbname": "nodb", "docid": "d"})
			if !slices.Contains(tc.want, got) {
				t.Fatalf("error %q, want one of %q", got, tc.want)
			}
		})
	}
	// Allowed: the request reaches pouchdb-server, which answers 404.
	got := builtinError(t, allow, "couchdb/read", map[string]any{"url": couchURL, "dbname": "nodb-egress", "docid": "d"})
	if !strings.Contains(got, "no such document in nodb-egress") {
		t.Fatalf("with 127.0.0.1/32 allowed: %q, want the server's 404", got)
	}
}

// TestEgressOpensTheEmbeddedBroker: with the default policy, publish
// reaches Wisp's own broker on loopback, and no other loopback port.
func TestEgressOpensTheEmbeddedBroker(t *testing.T) {
	mosquitto := testenv.Mosquitto(t)
	srv, a := startTriggerServer(t, func(cfg *Config) { cfg.MQTT = "127.0.0.1:0" })
	_, body := a.do("POST", "whisk.system/actions/mqtt/publish?blocking=true", map[string]any{"url": "tcp://" + srv.MQTTAddr(), "topic": "t", "message": "m"})
	if !strings.Contains(string(body), `"success":true`) {
		t.Fatalf("publish to the embedded broker: %s", body)
	}
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(mosquitto, "tcp://"))
	got := builtinError(t, a, "mqtt/publish", map[string]any{"url": mosquitto, "topic": "t", "message": "m"})
	if want := "egress to 127.0.0.1:" + port + " denied by policy"; got != want {
		t.Fatalf("publish to mosquitto: %q, want %q", got, want)
	}
}

// TestEgressProtectsTheStore: the store's address stays denied to
// tenants even inside an allowed prefix.
func TestEgressProtectsTheStore(t *testing.T) {
	url := testenv.CouchDB(t)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(url, "http://"))
	store, prefix := couchStore(t, url)
	_, a := startTriggerServer(t, func(cfg *Config) {
		allowLoopback(cfg)
		cfg.StoreURL = store
	})
	got := builtinError(t, a, "couchdb/read", map[string]any{"url": url, "dbname": prefix + "subjects", "docid": "fire"})
	if want := "egress to 127.0.0.1:" + port + " denied by policy"; got != want {
		t.Fatalf("reading the store's subjects: %q, want %q", got, want)
	}
}

// TestNewEgressProtectsStoreAndBus: the store's and every bus server's
// address (default ports filled in) are denied inside an allowed prefix;
// the rest of the prefix is open.
func TestNewEgressProtectsStoreAndBus(t *testing.T) {
	cfg := DefaultConfig()
	cfg.EgressAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	cfg.StoreURL = "couchdb://admin:pw@127.0.0.1/?prefix=x_"
	cfg.Cluster.BusURL = "nats://u:p@127.0.0.2:4223, nats://127.0.0.3"
	p := newEgress(t.Context(), cfg, slog.New(slog.DiscardHandler))
	for _, tc := range []struct {
		addr   string
		denied bool
	}{
		{"127.0.0.1:5984", true}, // the store, couchdb:// default port
		{"127.0.0.2:4223", true}, // a bus server
		{"127.0.0.3:4222", true}, // another, nats:// default port
		{"127.0.0.1:5985", false},
		{"127.0.0.2:4222", false},
	} {
		if err := p.Check(netip.MustParseAddrPort(tc.addr)); (err != nil) != tc.denied {
			t.Errorf("Check(%s) = %v, want denied %v", tc.addr, err, tc.denied)
		}
	}
}
