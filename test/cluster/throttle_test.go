package cluster

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store/couchdb"
)

// throttleOvershoot is the documented bound (throttle.Report) on what the
// cluster accepts beyond a limit when requests go round robin over the
// controllers one every 20 ms: the other controllers accept at most a
// request or two each before they hear.
const throttleOvershoot = 4

// concurrentOnly is namespace limits of concurrent invocations only (its
// own limits override the controllers' defaults).
func concurrentOnly(concurrent int) *entity.NamespaceLimits {
	unlimited := 0
	return &entity.NamespaceLimits{InvocationsPerMinute: &unlimited, FiresPerMinute: &unlimited, ConcurrentInvocations: &concurrent}
}

// createSubject creates the namespace ns with limits (nil: the
// controllers' defaults) in the store and returns its credentials.
func createSubject(ctx context.Context, t *testing.T, st *couchdb.Store, ns string, limits *entity.NamespaceLimits) entity.Credentials {
	t.Helper()
	creds := entity.NewCredentials()
	if err := st.CreateSubject(ctx, entity.Subject{Namespace: ns, UUID: creds.UUID, KeyHash: entity.HashKey(creds.Key), Created: time.Now().UnixMilli(), Limits: limits}); err != nil {
		t.Fatal(err)
	}
	return creds
}

// createSleep creates the action sleep, which takes 4 s.
func (a *api) createSleep(t *testing.T, addr string) {
	t.Helper()
	a.must(t, addr, http.MethodPut, "/actions/sleep", map[string]any{
		"exec":   map[string]any{"kind": "nodejs:20", "code": "function main() { return new Promise(r => setTimeout(() => r({}), 4000)) }"},
		"limits": map[string]any{"memory": 128},
	})
}

// burst sends n requests round robin over the controllers, one every
// 20 ms, and counts the accepted ones.
func (a *api) burst(controllers []*node, path string, n int) int {
	accepted := 0
	for i := range n {
		code, _, err := a.do(controllers[i%len(controllers)].addr, http.MethodPost, path, map[string]any{})
		if err == nil && code >= 200 && code < 300 {
			accepted++
		}
		time.Sleep(20 * time.Millisecond)
	}
	return accepted
}

// TestClusterThrottles runs 3 controllers and sends each namespace's
// requests round robin over all three: the per-minute invocation and fire
// limits and the concurrent-invocations limit hold for the cluster (not
// three times over), within the overshoot the throttle package documents
// (what the other controllers accept in one 50 ms report interval).
func TestClusterThrottles(t *testing.T) {
	if testing.Short() {
		t.Skip("the cluster throttle test takes half a minute")
	}
	c, st, creds := newCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// "conc": only its concurrency limited (its own limits override the
	// defaults that "load" has).
	concCreds := createSubject(ctx, t, st, "conc", concurrentOnly(4))
	const perMinute, firesPerMinute = 30, 20
	ctlArgs := []string{"--throttle-invocations-per-minute", fmt.Sprint(perMinute), "--throttle-concurrent", "0", "--throttle-fires-per-minute", fmt.Sprint(firesPerMinute)}
	var controllers []*node
	for i := range 3 {
		controllers = append(controllers, c.start(fmt.Sprintf("c%d", i+1), "controller", ctlArgs...))
	}
	c.start("i1", "invoker", "--invoker", "process", "--stem-cells", "none", "--user-memory", "1024")
	load := &api{auth: basic(creds), client: &http.Client{Timeout: 30 * time.Second}}
	conc := &api{auth: basic(concCreds), client: &http.Client{Timeout: 30 * time.Second}}
	conc.createSleep(t, controllers[0].addr)
	load.must(t, controllers[0].addr, http.MethodPut, "/actions/noop", map[string]any{"exec": map[string]any{"kind": "nodejs:20", "code": "function main() { return {} }"}})
	load.must(t, controllers[0].addr, http.MethodPut, "/triggers/t", map[string]any{})
	for _, ctl := range controllers {
		waitFor(t, ctl.id+" to know an invoker", 60*time.Second, func() bool {
			code, _, _ := conc.do(ctl.addr, http.MethodPost, "/actions/sleep?blocking=true", map[string]any{})
			return code == http.StatusOK
		})
	}
	// conc's warm-up calls are over; they are not in flight any more.

	concurrent := conc.burst(controllers, "/actions/sleep?blocking=false", 24)

	// The per-minute counts are clock minutes: burst inside one.
	if s := time.Now().Second(); s > 40 {
		t.Logf("waiting %ds for the next minute", 60-s)
		time.Sleep(time.Duration(61-s) * time.Second)
	}
	invocations := load.burst(controllers, "/actions/noop?blocking=false", 3*perMinute)
	fires := load.burst(controllers, "/triggers/t", 3*firesPerMinute)

	t.Logf("| %-22s | %5s | %4s | %8s | %9s |", "limit (cluster-wide)", "value", "sent", "accepted", "overshoot")
	for _, r := range []struct {
		what            string
		limit, sent, ok int
	}{
		{"concurrent (conc)", 4, 24, concurrent},
		{"invocations/min (load)", perMinute, 3 * perMinute, invocations},
		{"fires/min (load)", firesPerMinute, 3 * firesPerMinute, fires},
	} {
		t.Logf("| %-22s | %5d | %4d | %8d | %9d |", r.what, r.limit, r.sent, r.ok, r.ok-r.limit)
		if r.ok < r.limit || r.ok > r.limit+throttleOvershoot {
			t.Errorf("%s: %d of %d accepted, want %d to %d", r.what, r.ok, r.sent, r.limit, r.limit+throttleOvershoot)
		}
	}
}
