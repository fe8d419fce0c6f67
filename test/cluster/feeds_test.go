package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/wispio/wisp/bus"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/feeds"
	"github.com/wispio/wisp/internal/testenv"
	"github.com/wispio/wisp/routing"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/store/couchdb"
)

// feedTally counts the activations of the rule action the feeds fire,
// each by its identity: an MQTT message by the sequence number in its
// payload, an alarm tick by its cause (the trigger activation, whose id
// derives from the tick's CloudEvent id trigger@scheduled-time).
type feedTally struct {
	mqtt   map[int]int    // by message number
	alarms map[string]int // by cause
}

func tallyFeeds(ctx context.Context, t *testing.T, st *couchdb.Store) feedTally {
	t.Helper()
	acts, err := st.ListActivations(ctx, "load", store.ActivationFilter{Name: "count"})
	if err != nil {
		t.Fatal(err)
	}
	tally := feedTally{mqtt: map[int]int{}, alarms: map[string]int{}}
	for _, act := range acts {
		var r struct {
			N     *int `json:"n"`
			Alarm bool `json:"alarm"`
		}
		if err := json.Unmarshal(act.Response.Result, &r); err != nil {
			continue
		}
		switch {
		case r.Alarm:
			tally.alarms[act.Cause]++
		case r.N != nil:
			tally.mqtt[*r.N]++
		}
	}
	return tally
}

// alarmCauses maps the trigger activation id of every scheduled tick of
// the alarm registered for trigger (from its CloudEvent id
// trigger@time, scoped by the registration) to the tick's time.
func alarmCauses(ctx context.Context, t *testing.T, st *couchdb.Store, trigger entity.FQN, from, to time.Time) map[string]time.Time {
	t.Helper()
	rec, err := st.Get(ctx, feeds.SystemNamespace, store.Feeds, trigger.Namespace+"/"+trigger.Name)
	if err != nil {
		t.Fatalf("read the alarm's registration: %v", err)
	}
	var reg feeds.Registration
	if err := json.Unmarshal(rec.Doc, &reg); err != nil {
		t.Fatal(err)
	}
	causes := map[string]time.Time{}
	for at := from; !at.After(to); at = at.Add(time.Second) {
		ev := &entity.EventAttributes{Source: "/whisk.system/alarms", ID: reg.Trigger + "@" + at.UTC().Format(time.RFC3339Nano)}
		causes[routing.EventActivationID(trigger, strconv.FormatInt(reg.Created, 10), ev)] = at
	}
	return causes
}

// feedRow is one line of the failover table.
type feedRow struct {
	what                                       string
	published, activations, missing, duplicate int
}

// mqttRow checks the messages 0..published-1 by number.
func mqttRow(tally map[int]int, published int) feedRow {
	r := feedRow{what: "mqtt (QoS 1)", published: published}
	for n := range published {
		r.activations += tally[n]
		switch got := tally[n]; {
		case got == 0:
			r.missing++
		case got > 1:
			r.duplicate += got - 1
		}
	}
	for n, got := range tally {
		if n < 0 || n >= published {
			r.activations += got
			r.duplicate += got // never published
		}
	}
	return r
}

// alarmRow checks every scheduled tick by its cause; an activation of a
// cause that is no scheduled tick counts as a duplicate.
func alarmRow(tally map[string]int, causes map[string]time.Time) feedRow {
	r := feedRow{what: "alarm (every 1 s)", published: len(causes)}
	for cause, got := range tally {
		r.activations += got
		if _, ok := causes[cause]; !ok {
			r.duplicate += got
		} else if got > 1 {
			r.duplicate += got - 1
		}
	}
	for cause := range causes {
		if tally[cause] == 0 {
			r.missing++
		}
	}
	return r
}

// logged returns the time of the node's first log line with msg after
// after.
func (n *node) logged(t *testing.T, msg string, after time.Time) (time.Time, bool) {
	t.Helper()
	b, err := os.ReadFile(n.log)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, `msg="`+msg+`"`) {
			continue
		}
		ts, _, _ := strings.Cut(strings.TrimPrefix(line, "time="), " ")
		if at, err := time.Parse(time.RFC3339Nano, ts); err == nil && at.After(after) {
			return at, true
		}
	}
	return time.Time{}, false
}

// feedCall sends a lifecycle event to a feed action through a controller,
// blocking, and fails the test unless it succeeds.
func (a *api) feedCall(t *testing.T, addr, feed, event, trigger string, params map[string]any) {
	t.Helper()
	body := map[string]any{"lifecycleEvent": event, "triggerName": "/load/" + trigger, "authKey": "unused"}
	for k, v := range params {
		body[k] = v
	}
	code, b, err := a.in(addr, http.MethodPost, "whisk.system/actions/"+feed+"?blocking=true&result=true", body)
	if err != nil || code != http.StatusOK || !strings.Contains(string(b), `"ok":true`) {
		t.Fatalf("%s %s on %s: %d %s %v", event, feed, trigger, code, b, err)
	}
}

// countJS is the rule action of the feeds: it returns the MQTT message's
// number, or marks an alarm tick.
const countJS = "function main(p) { return {n: p.payload ? p.payload.n : null, alarm: p.alarm === true} }"

// feedLease is the feeds nodes' --feed-lease; the test's look at the
// bucket opens it alike.
const feedLease = 2 * time.Second

// feedRig is two feeds nodes sharing the feeds of the namespace load: f1
// holds an MQTT feed (trigger readings, QoS 1) and a per-second alarm with
// a start and stop date (tick), f2 two idle alarms (idle1, idle5); every
// trigger's rule runs the action count.
type feedRig struct {
	f1, f2          *node
	topic           string
	startAt, stopAt time.Time         // the ticking alarm's first and last tick
	placed          map[string]string // registration → the node that holds it before a kill
	leases          *bus.Leases       // the test's look at the lease bucket
}

// startFeeds starts f1 and, through the first of controllers once every
// one of them runs a blocking call, creates the action count and the
// triggers with their rules and feeds (the alarm ticking from tickIn for
// tickFor), then starts f2 and waits until the registrations have spread
// to the nodes they prefer (feeds.PreferredNode). extra are the flags of
// both feeds nodes besides the egress and lease ones.
func startFeeds(ctx context.Context, t *testing.T, c *cluster, a *api, controllers []*node, broker string, tickIn, tickFor time.Duration, extra ...string) *feedRig {
	t.Helper()
	feedArgs := append([]string{"--egress-allow", "127.0.0.0/8", "--feed-lease", feedLease.String()}, extra...)
	r := &feedRig{f1: c.start("f1", "feeds", feedArgs...), topic: fmt.Sprintf("wisp-cluster/%s/readings", c.prefix)}
	ctl := controllers[0]
	a.must(t, ctl.addr, http.MethodPut, "/actions/count", map[string]any{
		"exec": map[string]any{"kind": "nodejs:20", "code": countJS}, "limits": map[string]any{"memory": 128},
	})
	// The names are chosen for where they fall: readings and tick on f1,
	// idle1 and idle5 on f2.
	r.placed = map[string]string{"load/readings": "f1", "load/tick": "f1", "load/idle1": "f2", "load/idle5": "f2"}
	for key, want := range r.placed {
		if got := feeds.PreferredNode(key, []string{"f1", "f2"}); got != want {
			t.Fatalf("%s prefers %s, the test wants %s: rename it", key, got, want)
		}
	}
	for trigger, feed := range map[string]string{"readings": "mqtt/messages", "tick": "alarms/alarm", "idle1": "alarms/alarm", "idle5": "alarms/alarm"} {
		a.must(t, ctl.addr, http.MethodPut, "/triggers/"+trigger, map[string]any{"annotations": []map[string]any{{"key": "feed", "value": "/whisk.system/" + feed}}})
		a.must(t, ctl.addr, http.MethodPut, "/rules/on-"+trigger, map[string]any{"trigger": "/_/" + trigger, "action": "/_/count"})
	}
	for _, ctl := range controllers {
		waitFor(t, ctl.id+" to run a blocking call", 60*time.Second, func() bool {
			code, _, _ := a.do(ctl.addr, http.MethodPost, "/actions/count?blocking=true&result=true", map[string]any{})
			return code == http.StatusOK
		})
	}
	a.feedCall(t, ctl.addr, "mqtt/messages", "CREATE", "readings", map[string]any{"url": broker, "topic": r.topic, "qos": 1})
	for _, idle := range []string{"idle1", "idle5"} {
		a.feedCall(t, ctl.addr, "alarms/alarm", "CREATE", idle, map[string]any{"cron": "0 0 1 1 *"})
	}
	r.startAt = time.Now().Add(tickIn).Truncate(time.Second)
	r.stopAt = r.startAt.Add(tickFor)
	a.feedCall(t, ctl.addr, "alarms/alarm", "CREATE", "tick", map[string]any{
		"cron": "* * * * * *", "startDate": r.startAt.UTC().Format(time.RFC3339), "stopDate": r.stopAt.UTC().Format(time.RFC3339),
		"trigger_payload": map[string]any{"alarm": true},
	})
	r.f2 = c.start("f2", "feeds", feedArgs...)

	nb, err := bus.ConnectNATS(ctx, c.busURL, bus.NATSOptions{Name: "test", Prefix: c.prefix}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nb.Close() })
	if r.leases, err = nb.Leases(ctx, "WISP_FEED_LEASES", "test", feedLease); err != nil {
		t.Fatal(err)
	}
	spreadFrom := time.Now()
	waitFor(t, "the feeds to spread over f1 and f2", 20*time.Second, func() bool {
		for key, want := range r.placed {
			if holder, err := r.leases.Holder(ctx, key); err != nil || holder != want {
				return false
			}
		}
		return true
	})
	t.Logf("spread: f1 holds load/readings and load/tick, f2 load/idle1 and load/idle5, %s after f2 started", time.Since(spreadFrom).Round(time.Millisecond))
	return r
}

// publisher connects an MQTT client to broker for publishing.
func (r *feedRig) publisher(t *testing.T, broker string) paho.Client {
	t.Helper()
	pub := paho.NewClient(paho.NewClientOptions().AddBroker(broker).SetClientID("pub-" + strings.ReplaceAll(r.topic, "/", "-")))
	if tok := pub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect the publisher: %v", tok.Error())
	}
	t.Cleanup(func() { pub.Disconnect(100) })
	return pub
}

// causes is alarmCauses of the ticking alarm.
func (r *feedRig) causes(ctx context.Context, t *testing.T, st *couchdb.Store) map[string]time.Time {
	t.Helper()
	return alarmCauses(ctx, t, st, entity.FQN{Namespace: "load", Name: "tick"}, r.startAt, r.stopAt)
}

// waitActivations waits until every message 0..published-1 and every
// tick of causes has an activation, and returns the tally then (or at the
// timeout, with the test failed).
func waitActivations(ctx context.Context, t *testing.T, st *couchdb.Store, published int, causes map[string]time.Time, tally *feedTally) {
	t.Helper()
	waitFor(t, "an activation of every message and tick", 2*time.Minute, func() bool {
		*tally = tallyFeeds(ctx, t, st)
		return mqttRow(tally.mqtt, published).missing == 0 && alarmRow(tally.alarms, causes).missing == 0
	})
}

// checkTakenOver requires that f2 holds every registration after f1 was
// killed at killedAt, and returns how long after the kill f2 logged
// taking a feed over.
func (r *feedRig) checkTakenOver(ctx context.Context, t *testing.T, killedAt time.Time) time.Duration {
	t.Helper()
	for key := range r.placed {
		if holder, err := r.leases.Holder(ctx, key); err != nil || holder != r.f2.id {
			t.Errorf("the feed %s is held by %q (%v) after the kill, want f2", key, holder, err)
		}
	}
	at, ok := r.f2.logged(t, "feed registration taken over", killedAt)
	if !ok {
		t.Error("f2 never logged taking a feed over")
		return 0
	}
	return at.Sub(killedAt)
}

// TestClusterFeedsFailover runs 2 controllers, 3 invokers and 2 feeds
// nodes; an MQTT feed (QoS 1, on the test Mosquitto) and a per-second
// alarm feed with a start and stop date, and two idle alarms, are created
// while only f1 runs; once f2 is live the registrations spread: the idle
// ones (which prefer f2, feeds.PreferredNode) move to f2, the MQTT and
// the ticking alarm feeds (which prefer f1) stay on f1. Messages are published while the alarm ticks, and f1
// is SIGKILLed halfway: f2 takes both feeds over (the MQTT persistent
// session, the alarm's cursor and catch-up, the outbox), and every
// published message and every tick of the alarm must have its
// activation of the rule action, none twice.
func TestClusterFeedsFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("the cluster feeds test takes a minute")
	}
	broker := testenv.Mosquitto(t)
	c, st, creds := newCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ctlArgs := unthrottledInfo()
	controllers := []*node{c.start("c1", "controller", ctlArgs...), c.start("c2", "controller", ctlArgs...)}
	for i := range 3 {
		c.start(fmt.Sprintf("i%d", i+1), "invoker", "--invoker", "process", "--stem-cells", "none", "--user-memory", "1024")
	}
	a := &api{auth: basic(creds), client: &http.Client{Timeout: 70 * time.Second}}
	rig := startFeeds(ctx, t, c, a, controllers, broker, 10*time.Second, 25*time.Second, ctlArgs...)

	pub := rig.publisher(t, broker)
	const published = 400
	var killedAt time.Time
	tick := time.NewTicker(50 * time.Millisecond)
	for i := range published {
		<-tick.C
		if killedAt.IsZero() && i >= published/3 && time.Now().After(rig.startAt.Add(5*time.Second)) {
			t.Logf("SIGKILL feeds node f1 (holding the MQTT and the ticking alarm feeds) after %d messages, %s into the alarm", i, time.Since(rig.startAt).Round(time.Millisecond))
			rig.f1.kill(t)
			killedAt = time.Now()
		}
		tok := pub.Publish(rig.topic, 1, false, fmt.Sprintf(`{"n":%d}`, i))
		if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %d: %v", i, tok.Error())
		}
	}
	tick.Stop()
	if killedAt.IsZero() {
		t.Fatal("f1 was never killed: the publishing ended before the alarm ran 5 s")
	}
	causes := rig.causes(ctx, t, st)

	var tally feedTally
	defer func() { // the table, also when the wait below times out
		t.Logf("| %-18s | %9s | %11s | %7s | %10s |", "feed", "published", "activations", "missing", "duplicated")
		for _, r := range []feedRow{mqttRow(tally.mqtt, published), alarmRow(tally.alarms, causes)} {
			t.Logf("| %-18s | %9d | %11d | %7d | %10d |", r.what, r.published, r.activations, r.missing, r.duplicate)
			if r.missing != 0 || r.duplicate != 0 {
				t.Errorf("%s: %d missing, %d duplicated activations", r.what, r.missing, r.duplicate)
			}
		}
	}()
	waitActivations(ctx, t, st, published, causes, &tally)
	if took := rig.checkTakenOver(ctx, t, killedAt); took > 0 {
		t.Logf("f2 took the feeds over %s after the kill", took.Round(time.Millisecond))
	}
}
