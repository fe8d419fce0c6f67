package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/routing"
	"github.com/wispio/wisp/store/couchdb"
)

// stepJS is a sequence component: it takes 2 s, adds 1 to value and
// appends its activation id to the file named by the parameter runs (one
// line per run, for counting the runs of each component).
const stepJS = `const fs = require('fs');
async function main(p) {
  fs.appendFileSync(p.runs, process.env.__OW_ACTIVATION_ID + "\n");
  await new Promise(r => setTimeout(r, 2000));
  return {value: (p.value || 0) + 1, runs: p.runs};
}`

// TestClusterSequenceSurvivesController runs two 10-step sequences on a
// controller, one non-blocking and one blocking, SIGKILLs that controller
// while both are in their fourth step or later, and requires that the
// other controller finishes both from where they stopped: each record
// lists the ten derived component ids with the right result, every
// component has its record, and no component that completed before the
// kill ran again.
func TestClusterSequenceSurvivesController(t *testing.T) {
	if testing.Short() {
		t.Skip("the cluster test takes a minute")
	}
	const steps = 10
	c, st, creds := newCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// The actions run as users of their own: the runs file is theirs too.
	runsDir, err := os.MkdirTemp("", "wisp-seq-runs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(runsDir) })
	if err := os.Chmod(runsDir, 0o777); err != nil {
		t.Fatal(err)
	}
	runs := filepath.Join(runsDir, "runs")
	// Each container runs as a user of its own: the file is everyone's.
	if err := os.WriteFile(runs, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(runs, 0o666); err != nil {
		t.Fatal(err)
	}

	ctlArgs := []string{"--log-level", "info"}
	doomed := c.start("c1", "controller", ctlArgs...)
	invokers := []*node{
		c.start("i1", "invoker", "--invoker", "process", "--stem-cells", "none", "--user-memory", "1024"),
		c.start("i2", "invoker", "--invoker", "process", "--stem-cells", "none", "--user-memory", "1024"),
	}
	a := &api{auth: basic(creds), client: &http.Client{Timeout: 2 * time.Minute}}
	a.must(t, doomed.addr, http.MethodPut, "/actions/step", map[string]any{
		"exec": map[string]any{"kind": "nodejs:20", "code": stepJS}, "limits": map[string]any{"memory": 128},
	})
	components := make([]string, steps)
	for i := range components {
		components[i] = "/load/step"
	}
	a.must(t, doomed.addr, http.MethodPut, "/actions/seq", map[string]any{
		"exec": map[string]any{"kind": "sequence", "components": components},
	})
	knowsInvokers := func(ctl *node) func() bool {
		return func() bool {
			known := ctl.invokers(t)
			for _, inv := range invokers {
				if !known[inv.id] {
					return false
				}
			}
			return true
		}
	}
	waitFor(t, doomed.id+" to know every invoker", 60*time.Second, knowsInvokers(doomed))

	// Both sequences start on the doomed controller, the only one yet.
	input := map[string]any{"value": 0, "runs": runs}
	var res struct {
		ActivationID string `json:"activationId"`
	}
	if err := json.Unmarshal(a.must(t, doomed.addr, http.MethodPost, "/actions/seq?blocking=false", input), &res); err != nil || res.ActivationID == "" {
		t.Fatalf("non-blocking sequence: %v", err)
	}
	queued := res.ActivationID
	blockingDone := make(chan error, 1)
	go func() {
		code, body, err := a.do(doomed.addr, http.MethodPost, "/actions/seq?blocking=true", input)
		if err == nil {
			err = fmt.Errorf("answered %d %s", code, body)
		}
		blockingDone <- err // the connection dies with the controller
	}()
	survivor := c.start("c2", "controller", ctlArgs...)
	waitFor(t, survivor.id+" to know every invoker", 60*time.Second, knowsInvokers(survivor))
	// The blocking sequence's id is in its first component's record.
	var blocking string
	waitFor(t, "the blocking sequence's first component", 60*time.Second, func() bool {
		for _, id := range ranIDs(t, runs) {
			act, err := st.GetActivation(ctx, "load", id)
			if err == nil && act.Cause != queued && act.Cause != "" {
				blocking = act.Cause
				return true
			}
		}
		return false
	})
	seqs := []string{queued, blocking}
	waitFor(t, "both sequences in their fourth step", 60*time.Second, func() bool {
		for _, seq := range seqs {
			act, err := st.GetActivation(ctx, "load", routing.DerivedActivationID(seq, 2))
			if err != nil {
				return false
			}
			if !act.Response.Success {
				t.Fatalf("sequence %s: component 2 failed: %s", seq, act.Response.Result)
			}
		}
		return true
	})
	// What completed before the kill must not run again; what was in
	// flight may (at least once), though a 2 s step ends long before the
	// takeover.
	completedBefore := map[string]bool{}
	for _, id := range ranIDs(t, runs) {
		if _, err := st.GetActivation(ctx, "load", id); err == nil {
			completedBefore[id] = true
		}
	}
	t.Logf("SIGKILL controller %s with %d components completed", doomed.id, len(completedBefore))
	killed := time.Now()
	doomed.kill(t)
	if err := <-blockingDone; err == nil {
		t.Fatal("the blocking call was answered by a killed controller")
	}

	records := map[string]*entity.Activation{}
	waitFor(t, "both sequences' records", 3*time.Minute, func() bool {
		for _, seq := range seqs {
			if records[seq] == nil {
				if act, err := st.GetActivation(ctx, "load", seq); err == nil {
					records[seq] = act
				}
			}
		}
		return len(records) == len(seqs)
	})
	finished := time.Since(killed)

	counts := map[string]int{}
	for _, id := range ranIDs(t, runs) {
		counts[id]++
	}
	rerunInFlight := 0
	for _, seq := range seqs {
		act := records[seq]
		want := make([]string, steps)
		for i := range want {
			want[i] = routing.DerivedActivationID(seq, i)
		}
		if !slices.Equal(act.Logs, want) {
			t.Errorf("sequence %s: logs %v, want the %d derived component ids", seq, act.Logs, steps)
		}
		if !act.Response.Success || !strings.Contains(string(act.Response.Result), `"value":10`) {
			t.Errorf("sequence %s: response %+v %s, want value 10", seq, act.Response, act.Response.Result)
		}
		for i, id := range want {
			comp, err := getActivation(ctx, st, id)
			if err != nil {
				t.Errorf("sequence %s: component %d (%s) has no record: %v", seq, i, id, err)
				continue
			}
			if i == 0 && act.Start > comp.Start {
				t.Errorf("sequence %s: the record starts after its first component (%d > %d): it should start with the first run", seq, act.Start, comp.Start)
			}
			if comp.Cause != seq {
				t.Errorf("sequence %s: component %d has cause %s", seq, i, comp.Cause)
			}
			switch n := counts[id]; {
			case n == 0:
				t.Errorf("sequence %s: component %d never ran", seq, i)
			case n > 1 && completedBefore[id]:
				t.Errorf("sequence %s: component %d completed before the kill and ran %d times", seq, i, n)
			case n > 2:
				t.Errorf("sequence %s: component %d ran %d times", seq, i, n)
			case n == 2:
				rerunInFlight++
			}
		}
	}
	takeover := takeoverGap(ctx, t, st, seqs, killed)
	t.Logf("| sequences | steps each | components run | run again (in flight at the kill) | kill → next component started | kill → both records |")
	t.Logf("| %d (1 queued, 1 blocking) | %d | %d | %d | %s | %s |", len(seqs), steps, len(ranIDs(t, runs)), rerunInFlight,
		takeover.Round(100*time.Millisecond), finished.Round(100*time.Millisecond))
	if rerunInFlight > len(seqs) {
		t.Errorf("%d components ran again, want at most one per sequence (the one in flight at the kill)", rerunInFlight)
	}
}

// ranIDs reads the activation ids the step action appended to the runs
// file, one per run.
func ranIDs(t *testing.T, runs string) []string {
	t.Helper()
	b, err := os.ReadFile(runs)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

func getActivation(ctx context.Context, st *couchdb.Store, id string) (*entity.Activation, error) {
	return st.GetActivation(ctx, "load", id)
}

// takeoverGap is the time from the kill to the start of the first
// component that started after it, in any of seqs.
func takeoverGap(ctx context.Context, t *testing.T, st *couchdb.Store, seqs []string, killed time.Time) time.Duration {
	t.Helper()
	first := time.Time{}
	for _, seq := range seqs {
		for i := range 10 {
			act, err := st.GetActivation(ctx, "load", routing.DerivedActivationID(seq, i))
			if err != nil {
				continue
			}
			if start := time.UnixMilli(act.Start); start.After(killed) && (first.IsZero() || start.Before(first)) {
				first = start
			}
		}
	}
	if first.IsZero() {
		t.Error("no component started after the kill")
		return 0
	}
	return first.Sub(killed)
}
