package cluster

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/internal/testenv"
	"github.com/wispio/wisp/throttle"
)

// acceptanceRow is one line of the acceptance table.
type acceptanceRow struct {
	what, expected, got, missing, duplicated string
	ok                                       bool
}

// feedAcceptance is the acceptance row of a feed: none missing, none
// duplicated.
func feedAcceptance(r feedRow, unit string) acceptanceRow {
	return acceptanceRow{
		what: r.what + ", f1 killed", expected: fmt.Sprintf("%d %s", r.published, unit), got: fmt.Sprintf("%d activations", r.activations),
		missing: fmt.Sprint(r.missing), duplicated: fmt.Sprint(r.duplicate), ok: r.missing == 0 && r.duplicate == 0,
	}
}

// TestClusterAcceptance is the acceptance of a cluster with no single
// point of failure (issue #20), all in one run: 2 controllers, 3 invokers
// and 2 feeds nodes; an MQTT feed (QoS 1) and a per-second alarm fire into
// a rule while messages are published; two 10-step sequences (one queued,
// one blocking) run on c1; a namespace limited to 4 concurrent
// invocations gets a burst round robin over both controllers; then the
// feeds node holding both feeds (f1) and the controller running both
// sequences (c1) are SIGKILLed at the same moment, and the publishing and
// the alarm go on. Afterwards every published message and every tick
// has exactly one activation of the rule action, both sequences completed
// with every component run once and recorded, and the burst was accepted
// within the limit and the documented overshoot, as is a second burst to
// c2 alone once c1's last throttle report stopped counting. It prints the
// table.
func TestClusterAcceptance(t *testing.T) {
	if testing.Short() {
		t.Skip("the cluster acceptance test takes a minute and a half")
	}
	broker := testenv.Mosquitto(t)
	c, st, creds := newCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// The throttle's load has a namespace of its own: the feeds and
	// sequences of load run unlimited (the flags below), so no limit
	// refuses them.
	const concurrency, burst = 4, 24
	thrCreds := createSubject(ctx, t, st, "thr", concurrentOnly(concurrency))
	runs := newRunsFile(t)

	ctlArgs := unthrottledInfo()
	// c1 runs alone until both sequences are its own: compositions are
	// queued and taken by any controller.
	c1 := c.start("c1", "controller", ctlArgs...)
	invokers := make([]*node, 3)
	for i := range invokers {
		invokers[i] = c.start(fmt.Sprintf("i%d", i+1), "invoker", "--invoker", "process", "--stem-cells", "none", "--user-memory", "1024")
	}
	a := &api{auth: basic(creds), client: &http.Client{Timeout: 2 * time.Minute}}
	thr := &api{auth: basic(thrCreds), client: &http.Client{Timeout: 30 * time.Second}}
	a.createSequence(t, c1.addr)
	thr.createSleep(t, c1.addr)
	waitFor(t, "c1 to know every invoker", 60*time.Second, knowsInvokers(t, c1, invokers))
	rig := startFeeds(ctx, t, c, a, []*node{c1}, broker, 8*time.Second, 30*time.Second, ctlArgs...)

	pub := rig.publisher(t, broker)
	var published atomic.Int64 // messages 0..published-1 acknowledged by the broker
	stopPublishing, publishingDone := make(chan struct{}), make(chan error, 1)
	go func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for n := 0; ; n++ {
			select {
			case <-stopPublishing:
				publishingDone <- nil
				return
			case <-tick.C:
			}
			tok := pub.Publish(rig.topic, 1, false, fmt.Sprintf(`{"n":%d}`, n))
			if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
				publishingDone <- fmt.Errorf("publish %d: %v", n, tok.Error())
				return
			}
			published.Store(int64(n + 1))
		}
	}()

	seqs, blockingDone := a.startSequences(ctx, t, st, c1.addr, runs)
	c2 := c.start("c2", "controller", ctlArgs...)
	controllers := []*node{c1, c2}
	waitFor(t, "c2 to know every invoker", 60*time.Second, knowsInvokers(t, c2, invokers))
	waitFor(t, "c2 to run a blocking call", 60*time.Second, func() bool {
		code, _, _ := a.do(c2.addr, http.MethodPost, "/actions/count?blocking=true&result=true", map[string]any{})
		return code == http.StatusOK
	})
	accepted := thr.burst(controllers, "/actions/sleep?blocking=false", burst)

	waitFor(t, "both sequences in their fourth step with the alarm ticking", 60*time.Second, func() bool {
		return stepDone(ctx, t, st, seqs, 2) && time.Now().After(rig.startAt.Add(3*time.Second)) && published.Load() >= 50
	})
	if time.Now().After(rig.stopAt.Add(-10 * time.Second)) {
		t.Fatalf("the alarm stops at %s, too soon after the kill now: give it longer", rig.stopAt.Format(time.TimeOnly))
	}
	completedBefore := completedRuns(ctx, t, st, runs)
	publishedBefore := published.Load()
	killed := time.Now()
	rig.f1.kill(t)
	c1.kill(t)
	t.Logf("SIGKILL feeds node f1 (holding the MQTT and ticking alarm feeds) and controller c1 (running both sequences, %d components completed) after %d messages, %s into the alarm",
		len(completedBefore), publishedBefore, killed.Sub(rig.startAt).Round(time.Millisecond))
	if err := <-blockingDone; err == nil {
		t.Fatal("the blocking sequence was answered by a killed controller")
	}
	// Publishing goes on until f2 holds the feeds and 60 more messages
	// went to its session.
	waitFor(t, "f2 to hold the MQTT and alarm feeds", 30*time.Second, func() bool {
		for _, key := range []string{"load/readings", "load/tick"} {
			if holder, err := rig.leases.Holder(ctx, key); err != nil || holder != rig.f2.id {
				return false
			}
		}
		return true
	})
	afterTakeover := published.Load()
	waitFor(t, "60 messages after the takeover", 30*time.Second, func() bool { return published.Load() >= afterTakeover+60 })
	close(stopPublishing)
	if err := <-publishingDone; err != nil {
		t.Fatal(err)
	}
	sent := int(published.Load())
	causes := rig.causes(ctx, t, st)

	var (
		tally   feedTally
		records map[string]*entity.Activation
		seqRuns sequenceRuns
		timings []string
		// acceptedAfter is what c2 alone accepts of a second burst once
		// c1's last report no longer counts (after PeerSilence): -1 until
		// it ran.
		acceptedAfter = -1
	)
	throttleAcceptance := func(what string, accepted int) acceptanceRow {
		r := acceptanceRow{what: what, expected: fmt.Sprintf("%d to %d of %d (limit %d)", concurrency, concurrency+throttleOvershoot, burst, concurrency),
			got: fmt.Sprintf("%d accepted", accepted), missing: "–", duplicated: "–",
			ok: accepted >= concurrency && accepted <= concurrency+throttleOvershoot}
		if accepted < 0 {
			r.got = "not sent"
		}
		return r
	}
	defer func() { // the table, also when a wait below times out
		seqRow := acceptanceRow{what: "sequence (10 steps), c1 killed", expected: fmt.Sprintf("%d sequences, %d components", len(seqs), len(seqs)*seqSteps),
			got: fmt.Sprintf("%d records, %d component runs", len(records), seqRuns.runs), missing: fmt.Sprint(len(seqs) - len(records) + seqRuns.missing),
			duplicated: fmt.Sprint(seqRuns.rerun)}
		seqRow.ok = len(records) == len(seqs) && seqRuns.missing == 0 && seqRuns.rerun == 0 && seqRuns.runs == len(seqs)*seqSteps
		rows := []acceptanceRow{
			feedAcceptance(mqttRow(tally.mqtt, sent), "published"),
			feedAcceptance(alarmRow(tally.alarms, causes), "ticks"),
			seqRow,
			throttleAcceptance("throttle (concurrent), c1+c2 before the kill", accepted),
			throttleAcceptance("throttle (concurrent), c2 after the kill", acceptedAfter),
		}
		t.Logf("| check | expected | got | missing | duplicated | ok |")
		t.Logf("|---|---|---|---|---|---|")
		for _, r := range rows {
			t.Logf("| %s | %s | %s | %s | %s | %s |", r.what, r.expected, r.got, r.missing, r.duplicated, map[bool]string{true: "yes", false: "NO"}[r.ok])
			if !r.ok {
				t.Errorf("%s: expected %s, got %s, %s missing, %s duplicated", r.what, r.expected, r.got, r.missing, r.duplicated)
			}
		}
		t.Logf("%d messages before the kill; %s", publishedBefore, strings.Join(timings, "; "))
	}()
	waitActivations(ctx, t, st, sent, causes, &tally)
	if took := rig.checkTakenOver(ctx, t, killed); took > 0 {
		timings = append(timings, "f2 took the feeds over "+took.Round(100*time.Millisecond).String()+" after the kill")
	}
	records = waitSequenceRecords(ctx, t, st, seqs)
	finished := time.Since(killed)
	seqRuns = checkSequences(ctx, t, st, seqs, records, runs, completedBefore)
	timings = append(timings,
		"c2 started the next component "+takeoverGap(ctx, t, st, seqs, killed).Round(100*time.Millisecond).String()+" after the kill",
		"both sequence records "+finished.Round(100*time.Millisecond).String()+" after it")
	// The first burst's activations are over and c1 has been silent for
	// longer than PeerSilence: c2 alone holds the limit, counting nothing
	// of c1 any more.
	if since := time.Since(killed); since < throttle.PeerSilence {
		t.Fatalf("the second burst would come %s after the kill, before c1's last report stops counting", since)
	}
	acceptedAfter = thr.burst([]*node{c2}, "/actions/sleep?blocking=false", burst)
}
