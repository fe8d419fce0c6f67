package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

const (
	incJS   = `function main(p) { return {value: (p.value || 0) + 1} }`
	countJS = `function main(p) { return {n: (p.lines || []).length, first: (p.lines || [])[0], sep: p.separator || null} }`
	failJS  = `function main(p) { return {error: "failed at " + p.value} }`
)

func TestSequenceOfThreeWithCatalogueComponent(t *testing.T) {
	_, ts := startTenants(t, "alice")
	a := ts["alice"]
	a.action(t, "count", countJS, nil, nil)
	a.must(t, http.StatusOK, http.MethodPut, "/namespaces/_/actions/pipeline", map[string]any{
		"exec":       map[string]any{"kind": "sequence", "components": []string{"/whisk.system/utils/split", "/whisk.system/utils/sort", "count"}},
		"parameters": keyValues(map[string]any{"separator": ","}),
	})
	var stored struct{ Exec struct{ Components []string } }
	_ = json.Unmarshal(a.must(t, http.StatusOK, http.MethodGet, "/namespaces/_/actions/pipeline", nil), &stored)
	if got := strings.Join(stored.Exec.Components, " "); got != "/whisk.system/utils/split /whisk.system/utils/sort /alice/count" {
		t.Fatalf("stored components = %s", got)
	}

	seq := a.invoke(t, "/namespaces/_/actions/pipeline", map[string]any{"payload": "c,b,a"})
	// The sequence's parameter reached the first component only.
	if !seq.Response.Success || !jsonEqual(t, seq.Response.Result, map[string]any{"n": 3, "first": "a", "sep": nil}) {
		t.Fatalf("sequence result = %+v %s", seq.Response, seq.Response.Result)
	}
	if len(seq.Logs) != 3 || seq.Namespace != "alice" || seq.Name != "pipeline" {
		t.Fatalf("sequence activation = %+v", seq)
	}
	for key, want := range map[string]any{"kind": "sequence", "topmost": true, "path": "alice/pipeline"} {
		if got := seq.Annotations.Get(key); got != want {
			t.Errorf("annotation %s = %v, want %v", key, got, want)
		}
	}
	if seq.Annotations.Get("waitTime") == nil {
		t.Error("no waitTime annotation")
	}
	for i, id := range seq.Logs {
		comp := a.activation(t, id)
		if comp.Cause != seq.ActivationID || comp.Annotations.Get("causedBy") != "sequence" || comp.Namespace != "alice" {
			t.Errorf("component %d = %+v", i, comp)
		}
	}
	if got := a.activation(t, seq.ActivationID); got.Response.StatusCode != 0 || len(got.Logs) != 3 {
		t.Fatalf("stored sequence activation = %+v", got)
	}
}

func TestSequenceOfSequencesAndFailures(t *testing.T) {
	_, ts := startTenants(t, "alice")
	a := ts["alice"]
	a.action(t, "inc", incJS, nil, nil)
	a.action(t, "fail", failJS, nil, nil)
	a.sequence(t, "twice", "inc", "inc")
	a.sequence(t, "five", "twice", "inc", "/_/twice")
	a.sequence(t, "broken", "inc", "fail", "inc")

	five := a.invoke(t, "/namespaces/_/actions/five", nil)
	if !jsonEqual(t, five.Response.Result, map[string]any{"value": 5}) || len(five.Logs) != 3 {
		t.Fatalf("five = %s logs %v", five.Response.Result, five.Logs)
	}
	inner := a.activation(t, five.Logs[0])
	if inner.Name != "twice" || inner.Cause != five.ActivationID || inner.Annotations.Get("topmost") != false || inner.Annotations.Get("causedBy") != "sequence" || len(inner.Logs) != 2 {
		t.Fatalf("inner sequence activation = %+v", inner)
	}
	if leaf := a.activation(t, inner.Logs[0]); leaf.Cause != inner.ActivationID {
		t.Fatalf("leaf cause = %s, want %s", leaf.Cause, inner.ActivationID)
	}

	broken := a.invoke(t, "/namespaces/_/actions/broken", nil)
	if broken.Response.Status != "application error" || len(broken.Logs) != 2 || !strings.Contains(string(broken.Response.Result), "failed at 1") {
		t.Fatalf("broken = %+v %s logs %v", broken.Response, broken.Response.Result, broken.Logs)
	}

	// Non-blocking: 202 now, the record later.
	inv, _, err := a.c.InvokeAction(context.Background(), "five", map[string]any{"value": 10}, false, false)
	if err != nil || !inv.Accepted {
		t.Fatalf("non-blocking invoke = %+v, %v", inv, err)
	}
	if got := a.activation(t, inv.ActivationID); !jsonEqual(t, got.Response.Result, map[string]any{"value": 15}) {
		t.Fatalf("non-blocking sequence result = %s", got.Response.Result)
	}

	long := make([]string, 51)
	for i := range long {
		long[i] = "inc"
	}
	tests := []struct {
		name, target string
		components   []string
		status       int
		msg          string
	}{
		{"cycle", "twice", []string{"five"}, http.StatusBadRequest, "exec.components: Sequence may not refer to itself."},
		{"too long", "big", long, http.StatusBadRequest, "exec.components: Too many actions in the sequence."},
		{"too long inlined", "big", []string{"five", "five", "five", "five", "five", "five", "five", "five", "five", "five", "five"}, http.StatusBadRequest, "Too many actions in the sequence."},
		{"unknown component", "big", []string{"inc", "nope"}, http.StatusBadRequest, "exec.components: Sequence component does not exist."},
		{"bad name", "big", []string{"/a/b/c/d"}, http.StatusBadRequest, "exec.components[0]"},
		{"no components", "big", []string{}, http.StatusBadRequest, "exec.components"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := a.call(t, http.MethodPut, "/namespaces/_/actions/"+tt.target+"?overwrite=true",
				map[string]any{"exec": map[string]any{"kind": "sequence", "components": tt.components}})
			if status != tt.status || !strings.Contains(string(out), tt.msg) {
				t.Fatalf("= %d %s, want %d with %q", status, out, tt.status, tt.msg)
			}
		})
	}
}

func TestConductorAction(t *testing.T) {
	_, ts := startTenants(t, "alice")
	a := ts["alice"]
	a.action(t, "triple", `function main({ value }) { return { value: value * 3 } }`, nil, nil)
	a.action(t, "increment", `function main({ value }) { return { value: value + 1 } }`, nil, nil)
	a.action(t, "tripleAndIncrement", `function main(params) {
    let step = params.$step || 0
    delete params.$step
    switch (step) {
        case 0: return { action: 'triple', params, state: { $step: 1 } }
        case 1: return { action: 'increment', params, state: { $step: 2 } }
        case 2: return { params }
    }
}`, nil, map[string]any{"conductor": true})
	a.action(t, "lost", `function main() { return { action: 'nowhere' } }`, nil, map[string]any{"conductor": true})

	act := a.invoke(t, "/namespaces/_/actions/tripleAndIncrement", map[string]any{"value": 3})
	if !act.Response.Success || !jsonEqual(t, act.Response.Result, map[string]any{"value": 10}) {
		t.Fatalf("conductor = %+v %s", act.Response, act.Response.Result)
	}
	if len(act.Logs) != 5 || act.Annotations.Get("conductor") != true || act.Annotations.Get("kind") != "sequence" {
		t.Fatalf("primary activation = %+v", act)
	}
	names := make([]string, len(act.Logs))
	for i, id := range act.Logs {
		d := a.activation(t, id)
		names[i] = d.Name
		if d.Cause != act.ActivationID || d.Annotations.Get("causedBy") != "sequence" {
			t.Errorf("derived activation %d = %+v", i, d)
		}
	}
	if got := strings.Join(names, ","); got != "tripleAndIncrement,triple,tripleAndIncrement,increment,tripleAndIncrement" {
		t.Fatalf("derived activations = %s", got)
	}

	lost := a.invoke(t, "/namespaces/_/actions/lost", nil)
	if lost.Response.Status != "application error" || !strings.Contains(string(lost.Response.Result), "nowhere") {
		t.Fatalf("conductor naming a missing action = %+v %s", lost.Response, lost.Response.Result)
	}
}

// BenchmarkSequenceVsInvokes compares one blocking invoke of a sequence of
// three no-op actions with three blocking invokes of the same actions; the
// ratio metric is sequence time over separate-invokes time.
func BenchmarkSequenceVsInvokes(b *testing.B) {
	_, ts := startTenants(b, "bench")
	tn := ts["bench"]
	for i := range 3 {
		tn.action(b, fmt.Sprintf("noop%d", i), `function main(p) { return p }`, nil, nil)
	}
	tn.sequence(b, "seq", "noop0", "noop1", "noop2")
	ctx := context.Background()
	run := func(name string) {
		if _, _, err := tn.c.InvokeAction(ctx, name, nil, true, true); err != nil {
			b.Fatal(err)
		}
	}
	run("seq") // warm all three containers
	measure := func(f func()) time.Duration {
		start := time.Now()
		for range b.N {
			f()
		}
		return time.Since(start)
	}
	b.ResetTimer()
	seq := measure(func() { run("seq") })
	separate := measure(func() { run("noop0"); run("noop1"); run("noop2") })
	b.StopTimer()
	b.ReportMetric(float64(seq.Microseconds())/float64(b.N), "seq-µs/op")
	b.ReportMetric(float64(separate.Microseconds())/float64(b.N), "3invokes-µs/op")
	b.ReportMetric(float64(seq)/float64(separate), "seq/3invokes")
}
