package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/wispio/wisp/throttle"
)

// scrape GETs /metrics from addr and returns each sample by its series
// ("name{a="x",b="y"}", labels sorted as Prometheus writes them).
func scrape(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics = %d", resp.StatusCode)
	}
	samples := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		samples[line[:i]] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return samples
}

// series names a sample: name and labels "k=v" pairs, sorted.
func series(name string, labels ...string) string {
	slices.Sort(labels)
	parts := make([]string, len(labels))
	for i, l := range labels {
		k, v, _ := strings.Cut(l, "=")
		parts[i] = fmt.Sprintf("%s=%q", k, v)
	}
	return name + "{" + strings.Join(parts, ",") + "}"
}

func TestMetricsAfterInvokesAndFires(t *testing.T) {
	srv, api := startTriggerServer(t, nil)
	api.action("hello", 1)
	api.must(200, "PUT", "_/actions/boom", map[string]any{
		"exec": map[string]any{"kind": "nodejs:20", "code": `function main() { return {error: "boom"} }`},
	})
	var action struct {
		Limits struct{ Memory int }
	}
	if err := json.Unmarshal(api.must(200, "GET", "_/actions/hello", nil), &action); err != nil || action.Limits.Memory == 0 {
		t.Fatalf("action limits: %v", err)
	}
	api.must(200, "PUT", "_/triggers/t", map[string]any{})
	api.rule("r", "t", "hello")
	before := scrape(t, srv.MetricsAddr())

	for range 3 {
		api.must(200, "POST", "_/actions/hello?blocking=true", map[string]any{"n": 1})
	}
	api.must(502, "POST", "_/actions/boom?blocking=true", nil)
	fired := api.firedActions(api.fire("t", map[string]any{"n": 2}, http.StatusAccepted))
	if len(fired) != 1 {
		t.Fatalf("fire started %d actions, want 1", len(fired))
	}
	fires := series("wisp_trigger_fires_total", "namespace=fire", "trigger=t")
	var after map[string]float64
	waitFor(t, "the fire in the metrics", func() bool { // recorded once its record is written
		after = scrape(t, srv.MetricsAddr())
		return after[fires]-before[fires] >= 1
	})

	who := []string{"namespace=fire", "initiator=fire", "action=hello"}
	with := func(extra ...string) []string { return append(slices.Clone(who), extra...) }
	memory := strconv.Itoa(action.Limits.Memory)
	tests := []struct {
		series string
		delta  float64
	}{
		{series("openwhisk_action_activations_total", with("kind=nodejs:20", "memory="+memory)...), 4},
		{series("openwhisk_action_coldStarts_total", who...), 1},
		{series("openwhisk_action_status", with("status=success")...), 4},
		{series("openwhisk_action_status", "namespace=fire", "initiator=fire", "action=boom", "status=application_error"), 1},
		{series("openwhisk_action_duration_seconds_count", who...), 4},
		{series("openwhisk_action_waitTime_seconds_count", who...), 4},
		{series("openwhisk_action_initTime_seconds_count", who...), 1},
		{fires, 1},
		{series("wisp_rule_activations_total", "namespace=fire", "trigger=t", "outcome=activated"), 1},
		{series("wisp_bus_publish_seconds_count", "topic=triggers", "result=ok"), 1},
		// Every completion went to this process's controller by a call.
		{series("wisp_bus_publish_seconds_count", "topic=completions", "result=ok"), 0},
	}
	for _, tt := range tests {
		if got := after[tt.series] - before[tt.series]; got != tt.delta {
			t.Errorf("%s moved by %v, want %v", tt.series, got, tt.delta)
		}
	}
	// The first start of each action took a stem cell when one was
	// ready, else created a container.
	startDelta := func(start string) float64 {
		s := series("wisp_action_starts_total", "kind=nodejs:20", "start="+start)
		return after[s] - before[s]
	}
	if got := startDelta("cold") + startDelta("stem"); got != 2 {
		t.Errorf("cold and stem starts moved by %v, want 2", got)
	}
	// The others reused hello's container, paused or not by then.
	if got := startDelta("warm") + startDelta("resume"); got != 3 {
		t.Errorf("warm and resume starts moved by %v, want 3", got)
	}
	if _, ok := after[series("wisp_pool_kind_containers", "invoker="+srv.invokerID(), "kind=nodejs:20", "state=warm")]; !ok {
		t.Errorf("no wisp_pool_kind_containers for nodejs:20")
	}
	if got := after[series("openwhisk_action_memory", who...)]; got != float64(action.Limits.Memory) {
		t.Errorf("openwhisk_action_memory = %v, want %d", got, action.Limits.Memory)
	}
	if _, ok := after[series("wisp_pool_containers", "invoker="+srv.invokerID(), "state=warm")]; !ok {
		t.Errorf("no wisp_pool_containers for invoker %s", srv.invokerID())
	}
	if invoker := series("wisp_bus_publish_seconds_count", "topic=invoker", "result=ok"); after[invoker] <= before[invoker] {
		t.Errorf("%s did not move", invoker)
	}
	for s := range after {
		if strings.Contains(s, fired[0].ActivationID) {
			t.Errorf("series %s names an activation id", s)
		}
	}
}

func TestMetricsAddr(t *testing.T) {
	srv, _ := startServer(t, func(cfg *Config) { cfg.MetricsAddr = "127.0.0.1:0" })
	if srv.MetricsAddr() == srv.Addr() {
		t.Fatalf("metrics on the API address %s, want their own", srv.Addr())
	}
	if _, ok := scrape(t, srv.MetricsAddr())["go_goroutines"]; !ok {
		t.Error("no go_goroutines on the metrics address")
	}
	resp, err := http.Get("http://" + srv.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics on the API address = %d, want 404 with --metrics-addr", resp.StatusCode)
	}
}

// Each throttle refusal moves its counter once, for the namespace refused.
func TestMetricsCountThrottleRefusals(t *testing.T) {
	srv, a, other, _ := startThrottled(t, throttle.Limits{InvocationsPerMinute: 1, FiresPerMinute: 1})
	a.action("echo", 1)
	a.must(200, "PUT", "_/triggers/T", map[string]any{})
	before := scrape(t, srv.MetricsAddr())
	a.must(202, "POST", "_/actions/echo", map[string]any{})
	other.must(404, "POST", "_/actions/echo", map[string]any{}) // counted, under its limit
	for range 2 {
		a.must(429, "POST", "_/actions/echo", map[string]any{})
	}
	a.must(204, "POST", "_/triggers/T", map[string]any{})
	a.must(429, "POST", "_/triggers/T", map[string]any{})
	after := scrape(t, srv.MetricsAddr())
	for s, want := range map[string]float64{
		series("openwhisk_action_limit_timed_total", "namespace=fire"):      2,
		series("wisp_trigger_limit_timed_total", "namespace=fire"):          1,
		series("openwhisk_action_limit_timed_total", "namespace=other"):     0,
		series("openwhisk_action_limit_concurrent_total", "namespace=fire"): 0,
	} {
		if got := after[s] - before[s]; got != want {
			t.Errorf("%s moved by %v, want %v", s, got, want)
		}
	}
}

// With a metrics token file, GET /metrics answers only the bearer of the
// token; an unreadable or empty file fails the start.
func TestMetricsToken(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, _ := startServer(t, func(cfg *Config) { cfg.MetricsTokenFile = file })
	for _, tt := range []struct {
		name, auth string
		want       int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"wrong token", "Bearer nope", http.StatusUnauthorized},
		{"basic auth", "Basic czNjcmV0", http.StatusUnauthorized},
		{"the token", "Bearer s3cret", http.StatusOK},
	} {
		req, _ := http.NewRequest("GET", "http://"+srv.MetricsAddr()+"/metrics", nil)
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: GET /metrics = %d %s, want %d", tt.name, resp.StatusCode, body, tt.want)
		}
		if tt.want == http.StatusOK && !strings.Contains(string(body), "go_goroutines") {
			t.Errorf("%s: no metrics in %.100s", tt.name, body)
		}
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{empty, filepath.Join(dir, "missing")} {
		cfg := DefaultConfig()
		cfg.Invoker, cfg.Addr, cfg.DataDir, cfg.MetricsTokenFile = BackendProcess, "127.0.0.1:0", t.TempDir(), bad
		if srv, err := Start(context.Background(), cfg, slog.New(slog.DiscardHandler), nil); err == nil {
			_ = srv.Close(context.Background())
			t.Errorf("started with the metrics token file %s", bad)
		} else if !strings.Contains(err.Error(), "metrics-token-file") {
			t.Errorf("error %q does not name metrics-token-file", err)
		}
	}
}
