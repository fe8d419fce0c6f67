package server

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// BenchmarkFilteredFire measures, in one run on the process backend, one
// warm blocking invoke through the API and fires that no rule's filter
// passes of a trigger with 1 and with 1,000 filtered rules (nothing
// starts; the trigger activation is written). The difference between the
// two fires is what 999 more non-matching filters cost; it reports it per
// fire (filters-µs) and against the warm invoke (filters/invoke; issue 17
// wants it under 0.1).
func BenchmarkFilteredFire(b *testing.B) {
	_, a := startTriggerServer(b, func(cfg *Config) { cfg.Pool.PauseGrace = time.Hour })
	a.must(200, "PUT", "_/actions/noop", map[string]any{"exec": map[string]any{"kind": "nodejs:20", "code": `function main(p) { return {ok: true} }`}})
	for _, t := range []struct {
		name  string
		rules int
	}{{"one", 1}, {"many", 1000}} {
		a.must(200, "PUT", "_/triggers/"+t.name, nil)
		for i := range t.rules {
			filter := fmt.Sprintf("params.device == 'd%d' && params.temp > 30.0", i)
			if i%2 == 1 {
				filter = fmt.Sprintf(`{"exact": {"params.device": "d%d"}}`, i)
			}
			var f any = filter
			if filter[0] == '{' {
				f = map[string]any{"exact": map[string]any{"params.device": fmt.Sprintf("d%d", i)}}
			}
			a.must(200, "PUT", fmt.Sprintf("_/rules/%s-%d", t.name, i), map[string]any{"trigger": "/_/" + t.name, "action": "/_/noop", "filter": f})
		}
	}
	a.must(200, "POST", "_/actions/noop?blocking=true", map[string]any{}) // warm
	client := &http.Client{}
	post := func(b *testing.B, path, body string) {
		req, _ := http.NewRequest(http.MethodPost, a.base+path, bytes.NewReader([]byte(body)))
		req.SetBasicAuth(a.auth.UUID, a.auth.Key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted {
			b.Fatalf("%s: %d", path, resp.StatusCode)
		}
	}
	perOp := map[string]float64{}
	for _, s := range []struct{ name, path, body string }{
		{"warm-invoke", "_/actions/noop?blocking=true", `{}`},
		{"fire-1-rule", "_/triggers/one", `{"device": "nobody", "temp": 40}`},
		{"fire-1000-rules", "_/triggers/many", `{"device": "nobody", "temp": 40}`},
	} {
		b.Run(s.name, func(b *testing.B) {
			for b.Loop() {
				post(b, s.path, s.body)
			}
			perOp[s.name] = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			if s.name == "fire-1000-rules" && perOp["warm-invoke"] > 0 {
				extra := perOp["fire-1000-rules"] - perOp["fire-1-rule"]
				b.ReportMetric(extra/1e3, "filters-µs")
				b.ReportMetric(extra/perOp["warm-invoke"], "filters/invoke")
			}
		})
	}
}
