package cluster

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/wispio/wisp/entity"
)

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
	concCreds := entity.NewCredentials()
	zero, four := 0, 4
	if err := st.CreateSubject(ctx, entity.Subject{Namespace: "conc", UUID: concCreds.UUID, KeyHash: entity.HashKey(concCreds.Key), Created: time.Now().UnixMilli(),
		Limits: &entity.NamespaceLimits{InvocationsPerMinute: &zero, FiresPerMinute: &zero, ConcurrentInvocations: &four}}); err != nil {
		t.Fatal(err)
	}
	const perMinute, firesPerMinute = 30, 20
	ctlArgs := []string{"--throttle-invocations-per-minute", fmt.Sprint(perMinute), "--throttle-concurrent", "0", "--throttle-fires-per-minute", fmt.Sprint(firesPerMinute)}
	var controllers []*node
	for i := range 3 {
		controllers = append(controllers, c.start(fmt.Sprintf("c%d", i+1), "controller", ctlArgs...))
	}
	c.start("i1", "invoker", "--invoker", "process", "--stem-cells", "none", "--user-memory", "1024")
	load := &api{auth: basic(creds), client: &http.Client{Timeout: 30 * time.Second}}
	conc := &api{auth: basic(concCreds), client: &http.Client{Timeout: 30 * time.Second}}
	conc.must(t, controllers[0].addr, http.MethodPut, "/actions/sleep", map[string]any{
		"exec":   map[string]any{"kind": "nodejs:20", "code": "function main() { return new Promise(r => setTimeout(() => r({}), 4000)) }"},
		"limits": map[string]any{"memory": 128},
	})
	load.must(t, controllers[0].addr, http.MethodPut, "/actions/noop", map[string]any{"exec": map[string]any{"kind": "nodejs:20", "code": "function main() { return {} }"}})
	load.must(t, controllers[0].addr, http.MethodPut, "/triggers/t", map[string]any{})
	for _, ctl := range controllers {
		waitFor(t, ctl.id+" to know an invoker", 60*time.Second, func() bool {
			code, _, _ := conc.do(ctl.addr, http.MethodPost, "/actions/sleep?blocking=true", map[string]any{})
			return code == http.StatusOK
		})
	}
	// conc's warm-up calls are over; they are not in flight any more.

	// burst sends n requests round robin over the controllers, one every
	// 20 ms, and counts the accepted ones.
	burst := func(a *api, path string, n int) int {
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
	concurrent := burst(conc, "/actions/sleep?blocking=false", 24)

	// The per-minute counts are clock minutes: burst inside one.
	if s := time.Now().Second(); s > 40 {
		t.Logf("waiting %ds for the next minute", 60-s)
		time.Sleep(time.Duration(61-s) * time.Second)
	}
	invocations := burst(load, "/actions/noop?blocking=false", 3*perMinute)
	fires := burst(load, "/triggers/t", 3*firesPerMinute)

	// overshoot is the documented bound: the other controllers accept at
	// most a request or two each before they hear (one every 20 ms).
	const overshoot = 4
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
		if r.ok < r.limit || r.ok > r.limit+overshoot {
			t.Errorf("%s: %d of %d accepted, want %d to %d", r.what, r.ok, r.sent, r.limit, r.limit+overshoot)
		}
	}
}
