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

// seqSteps is the number of components of the sequence seq.
const seqSteps = 10

// newRunsFile makes the file the step action appends its runs to,
// writable by every user (each action process runs as a user of its own).
func newRunsFile(t *testing.T) string {
	t.Helper()
	runsDir, err := os.MkdirTemp("", "wisp-seq-runs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(runsDir) })
	if err := os.Chmod(runsDir, 0o777); err != nil {
		t.Fatal(err)
	}
	runs := filepath.Join(runsDir, "runs")
	if err := os.WriteFile(runs, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(runs, 0o666); err != nil {
		t.Fatal(err)
	}
	return runs
}

// createSequence creates the action step and the sequence seq of
// seqSteps of it through the controller at addr.
func (a *api) createSequence(t *testing.T, addr string) {
	t.Helper()
	a.must(t, addr, http.MethodPut, "/actions/step", map[string]any{
		"exec": map[string]any{"kind": "nodejs:20", "code": stepJS}, "limits": map[string]any{"memory": 128},
	})
	components := make([]string, seqSteps)
	for i := range components {
		components[i] = "/load/step"
	}
	a.must(t, addr, http.MethodPut, "/actions/seq", map[string]any{
		"exec": map[string]any{"kind": "sequence", "components": components},
	})
}

// knowsInvokers reports whether the controller's balancer holds every one
// of invokers.
func knowsInvokers(t *testing.T, ctl *node, invokers []*node) func() bool {
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

// startSequences starts seq twice through the controller at addr, one
// queued and one blocking, and returns both activation ids (queued first)
// once the first component of each has run, and the blocking call's end.
func (a *api) startSequences(ctx context.Context, t *testing.T, st *couchdb.Store, addr, runs string) ([]string, <-chan error) {
	t.Helper()
	input := map[string]any{"value": 0, "runs": runs}
	var res struct {
		ActivationID string `json:"activationId"`
	}
	if err := json.Unmarshal(a.must(t, addr, http.MethodPost, "/actions/seq?blocking=false", input), &res); err != nil || res.ActivationID == "" {
		t.Fatalf("non-blocking sequence: %v", err)
	}
	queued := res.ActivationID
	blockingDone := make(chan error, 1)
	go func() {
		code, body, err := a.do(addr, http.MethodPost, "/actions/seq?blocking=true", input)
		if err == nil {
			err = fmt.Errorf("answered %d %s", code, body)
		}
		blockingDone <- err // the connection dies with the controller
	}()
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
	return []string{queued, blocking}, blockingDone
}

// stepDone reports whether component step of every one of seqs has its
// record, failing the test if one failed.
func stepDone(ctx context.Context, t *testing.T, st *couchdb.Store, seqs []string, step int) bool {
	t.Helper()
	for _, seq := range seqs {
		act, err := st.GetActivation(ctx, "load", routing.DerivedActivationID(seq, step))
		if err != nil {
			return false
		}
		if !act.Response.Success {
			t.Fatalf("sequence %s: component %d failed: %s", seq, step, act.Response.Result)
		}
	}
	return true
}

// completedRuns is the set of the components in the runs file that have
// their record now.
func completedRuns(ctx context.Context, t *testing.T, st *couchdb.Store, runs string) map[string]bool {
	t.Helper()
	completed := map[string]bool{}
	for _, id := range ranIDs(t, runs) {
		if _, err := st.GetActivation(ctx, "load", id); err == nil {
			completed[id] = true
		}
	}
	return completed
}

// waitSequenceRecords waits for the record of every one of seqs.
func waitSequenceRecords(ctx context.Context, t *testing.T, st *couchdb.Store, seqs []string) map[string]*entity.Activation {
	t.Helper()
	records := map[string]*entity.Activation{}
	waitFor(t, "the sequences' records", 3*time.Minute, func() bool {
		for _, seq := range seqs {
			if records[seq] == nil {
				if act, err := st.GetActivation(ctx, "load", seq); err == nil {
					records[seq] = act
				}
			}
		}
		return len(records) == len(seqs)
	})
	return records
}

// sequenceRuns is what checkSequences counted.
type sequenceRuns struct {
	runs    int // component runs in the runs file
	missing int // components that never ran or have no record
	rerun   int // components that ran twice (in flight at the kill)
}

// checkSequences checks the records of seqs after their controller was
// killed: each lists the seqSteps derived component ids and has value
// seqSteps as its result; every component has its record, caused by its
// sequence, and ran once, or twice if it had not completed before the
// kill (completedBefore).
func checkSequences(ctx context.Context, t *testing.T, st *couchdb.Store, seqs []string, records map[string]*entity.Activation, runs string, completedBefore map[string]bool) sequenceRuns {
	t.Helper()
	ran := ranIDs(t, runs)
	counts := map[string]int{}
	for _, id := range ran {
		counts[id]++
	}
	got := sequenceRuns{runs: len(ran)}
	for _, seq := range seqs {
		act := records[seq]
		want := make([]string, seqSteps)
		for i := range want {
			want[i] = routing.DerivedActivationID(seq, i)
		}
		if !slices.Equal(act.Logs, want) {
			t.Errorf("sequence %s: logs %v, want the %d derived component ids", seq, act.Logs, seqSteps)
		}
		if !act.Response.Success || !strings.Contains(string(act.Response.Result), fmt.Sprintf(`"value":%d`, seqSteps)) {
			t.Errorf("sequence %s: response %+v %s, want value %d", seq, act.Response, act.Response.Result, seqSteps)
		}
		for i, id := range want {
			comp, err := getActivation(ctx, st, id)
			if err != nil {
				t.Errorf("sequence %s: component %d (%s) has no record: %v", seq, i, id, err)
				got.missing++
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
				got.missing++
			case n > 1 && completedBefore[id]:
				t.Errorf("sequence %s: component %d completed before the kill and ran %d times", seq, i, n)
				got.rerun += n - 1
			case n > 2:
				t.Errorf("sequence %s: component %d ran %d times", seq, i, n)
				got.rerun += n - 1
			case n == 2:
				got.rerun++
			}
		}
	}
	return got
}

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
	c, st, creds := newCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	runs := newRunsFile(t)

	ctlArgs := []string{"--log-level", "info"}
	doomed := c.start("c1", "controller", ctlArgs...)
	invokers := []*node{
		c.start("i1", "invoker", "--invoker", "process", "--stem-cells", "none", "--user-memory", "1024"),
		c.start("i2", "invoker", "--invoker", "process", "--stem-cells", "none", "--user-memory", "1024"),
	}
	a := &api{auth: basic(creds), client: &http.Client{Timeout: 2 * time.Minute}}
	a.createSequence(t, doomed.addr)
	waitFor(t, doomed.id+" to know every invoker", 60*time.Second, knowsInvokers(t, doomed, invokers))

	// Both sequences start on the doomed controller, the only one yet.
	seqs, blockingDone := a.startSequences(ctx, t, st, doomed.addr, runs)
	survivor := c.start("c2", "controller", ctlArgs...)
	waitFor(t, survivor.id+" to know every invoker", 60*time.Second, knowsInvokers(t, survivor, invokers))
	waitFor(t, "both sequences in their fourth step", 60*time.Second, func() bool { return stepDone(ctx, t, st, seqs, 2) })
	// What completed before the kill must not run again; what was in
	// flight may (at least once), though a 2 s step ends long before the
	// takeover.
	completedBefore := completedRuns(ctx, t, st, runs)
	t.Logf("SIGKILL controller %s with %d components completed", doomed.id, len(completedBefore))
	killed := time.Now()
	doomed.kill(t)
	if err := <-blockingDone; err == nil {
		t.Fatal("the blocking call was answered by a killed controller")
	}

	records := waitSequenceRecords(ctx, t, st, seqs)
	finished := time.Since(killed)
	got := checkSequences(ctx, t, st, seqs, records, runs, completedBefore)
	takeover := takeoverGap(ctx, t, st, seqs, killed)
	t.Logf("| sequences | steps each | components run | run again (in flight at the kill) | kill → next component started | kill → both records |")
	t.Logf("| %d (1 queued, 1 blocking) | %d | %d | %d | %s | %s |", len(seqs), seqSteps, got.runs, got.rerun,
		takeover.Round(100*time.Millisecond), finished.Round(100*time.Millisecond))
	if got.rerun > len(seqs) {
		t.Errorf("%d components ran again, want at most one per sequence (the one in flight at the kill)", got.rerun)
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
		for i := range seqSteps {
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
