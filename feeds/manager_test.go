package feeds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wispio/wisp/actions/builtin"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/routing"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/store/bolt"
	"github.com/wispio/wisp/throttle"
)

// fakeProvider is a Provider whose feeds the test drives through their
// sinks.
type fakeProvider struct {
	validateErr error
	startErr    error

	mu      sync.Mutex
	started []Registration
	feeds   chan *fakeFeed // each started feed
}

func newFakeProvider() *fakeProvider { return &fakeProvider{feeds: make(chan *fakeFeed, 16)} }

func (p *fakeProvider) Name() string    { return "fake" }
func (p *fakeProvider) Feeds() []string { return []string{"events"} }

func (p *fakeProvider) Validate(_ context.Context, _ string, params map[string]json.RawMessage) error {
	if p.validateErr != nil {
		return p.validateErr
	}
	if _, ok := params["topic"]; !ok {
		return builtin.Errorf("topic: missing")
	}
	return nil
}

func (p *fakeProvider) Start(_ context.Context, reg Registration, sink Sink) (Feed, error) {
	if p.startErr != nil {
		return nil, p.startErr
	}
	if string(reg.Params["topic"]) == `"unreachable"` {
		return nil, errors.New("topic: unreachable")
	}
	p.mu.Lock()
	p.started = append(p.started, reg)
	p.mu.Unlock()
	f := &fakeFeed{reg: reg, sink: sink, stopped: make(chan struct{})}
	p.feeds <- f
	return f, nil
}

type fakeFeed struct {
	reg     Registration
	sink    Sink
	stopped chan struct{}
	once    sync.Once
}

func (f *fakeFeed) Stop(context.Context) error {
	f.once.Do(func() { close(f.stopped) })
	return nil
}

// fakeFirer records fires; failures fail the next attempts.
type fakeFirer struct {
	mu       sync.Mutex
	failures int   // attempts left to fail
	err      error // what they fail with
	attempts int
	// throttle, when set, is checked first, as routing.Firer does.
	throttle *throttle.Throttle
	fired    []string // payload "n" values, in order
	reqs     []routing.FireRequest
	ids      []string // the activation id of every attempt, in order
	notify   chan string
}

func newFakeFirer() *fakeFirer { return &fakeFirer{notify: make(chan string, 64)} }

func (f *fakeFirer) Fire(_ context.Context, req routing.FireRequest) (*routing.FireResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts++
	f.ids = append(f.ids, req.ActivationID)
	if f.throttle != nil {
		if err := f.throttle.CheckFire(context.Background(), req.Subject); err != nil {
			return nil, fmt.Errorf("fire trigger %s: %w", req.Trigger, err)
		}
	}
	if f.failures != 0 {
		f.failures--
		return nil, f.err
	}
	n, _ := req.Payload.GetString("n")
	f.fired = append(f.fired, n)
	f.reqs = append(f.reqs, req)
	f.notify <- n
	return &routing.FireResult{}, nil
}

type fakeTriggers struct {
	deleted chan entity.FQN
}

func (f *fakeTriggers) DeleteTrigger(_ context.Context, fqn entity.FQN) (*entity.Trigger, error) {
	f.deleted <- fqn
	return &entity.Trigger{}, nil
}

type harness struct {
	t        testing.TB
	store    store.Store
	provider *fakeProvider
	firer    *fakeFirer
	triggers *fakeTriggers
	m        *Manager
	handler  builtin.Func
}

func openStore(t testing.TB) store.Store { return openStoreWith(t, bolt.Options{NoSync: true}) }

func openStoreWith(t testing.TB, opts bolt.Options) store.Store {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "wisp.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func newHarness(t testing.TB, st store.Store) *harness {
	t.Helper()
	return newHarnessWith(t, st, Config{})
}

// newHarnessWith is newHarness with cfg, whose retries are made short.
func newHarnessWith(t testing.TB, st store.Store, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t, store: st, provider: newFakeProvider(), firer: newFakeFirer(), triggers: &fakeTriggers{deleted: make(chan entity.FQN, 4)}}
	cfg.RetryMin, cfg.RetryMax = time.Millisecond, 5*time.Millisecond
	m, err := New(cfg, st, slog.New(slog.NewTextHandler(io.Discard, nil)), h.provider)
	if err != nil {
		t.Fatal(err)
	}
	h.m = m
	h.handler = m.Builtins()[HandlerName("fake", "events")]
	if h.handler == nil {
		t.Fatal("no handler for the fake feed")
	}
	return h
}

func (h *harness) start() {
	h.t.Helper()
	if err := h.m.Start(context.Background(), h.firer, h.triggers); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { _ = h.m.Close(context.Background()) })
}

func (h *harness) trigger(ns, name string) {
	h.t.Helper()
	tr := entity.Trigger{Namespace: ns, Name: name}
	if _, err := store.PutDoc(context.Background(), h.store, ns, store.Triggers, name, "", tr); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) call(caller string, params map[string]any) (map[string]any, error) {
	raw, _ := json.Marshal(params)
	out, err := h.handler(context.Background(), builtin.Call{Namespace: caller, Action: "/whisk.system/fake/events", Params: raw})
	if err != nil {
		return nil, err
	}
	var answer map[string]any
	if err := json.Unmarshal(out, &answer); err != nil {
		h.t.Fatalf("answer %s: %v", out, err)
	}
	return answer, nil
}

func (h *harness) mustCall(caller string, params map[string]any) map[string]any {
	h.t.Helper()
	a, err := h.call(caller, params)
	if err != nil {
		h.t.Fatalf("%v: %v", params["lifecycleEvent"], err)
	}
	return a
}

func (h *harness) create(caller, trigger string) *fakeFeed {
	h.t.Helper()
	h.mustCall(caller, map[string]any{"lifecycleEvent": "CREATE", "triggerName": trigger, "authKey": "u:k", "topic": "t", "password": "hunter2"})
	return h.nextFeed()
}

func (h *harness) nextFeed() *fakeFeed {
	h.t.Helper()
	select {
	case f := <-h.provider.feeds:
		return f
	case <-time.After(10 * time.Second):
		h.t.Fatal("the provider's feed did not start")
		return nil
	}
}

func (h *harness) count(c store.Collection) int {
	h.t.Helper()
	n, err := h.store.Count(context.Background(), SystemNamespace, c, "")
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

func (h *harness) waitFired(want ...string) {
	h.t.Helper()
	for i, w := range want {
		select {
		case got := <-h.firer.notify:
			if got != w {
				h.t.Fatalf("fire %d: got event %q, want %q", i, got, w)
			}
		case <-time.After(10 * time.Second):
			h.t.Fatalf("fire %d (%q) did not happen", i, w)
		}
	}
}

func event(n int, cursor string) Event {
	return Event{Payload: json.RawMessage(fmt.Sprintf(`{"n":"%d"}`, n)), Cursor: cursor}
}

func TestLifecycle(t *testing.T) {
	h := newHarness(t, openStore(t))
	h.trigger("ns", "T")
	h.start()
	feed := h.create("ns", "/_/T")
	if feed.reg.Trigger != "/ns/T" || feed.reg.Status != StatusActive {
		t.Errorf("started registration %+v", feed.reg)
	}
	if _, ok := feed.reg.Params["lifecycleEvent"]; ok {
		t.Error("lifecycleEvent reached the provider's params")
	}

	read := h.mustCall("ns", map[string]any{"lifecycleEvent": "read", "triggerName": "ns/T"})
	cfg, _ := read["config"].(map[string]any)
	if read["status"] != StatusActive || cfg["topic"] != "t" || cfg["password"] != "********" {
		t.Errorf("READ = %v", read)
	}
	if b, _ := json.Marshal(read); strings.Contains(string(b), "hunter2") || strings.Contains(string(b), "u:k") {
		t.Errorf("READ shows a secret: %s", b)
	}

	h.mustCall("ns", map[string]any{"lifecycleEvent": "PAUSE", "triggerName": "/ns/T"})
	<-feed.stopped
	if got := h.mustCall("ns", map[string]any{"lifecycleEvent": "READ", "triggerName": "/ns/T"})["status"]; got != StatusPaused {
		t.Errorf("status after PAUSE = %v", got)
	}
	h.mustCall("ns", map[string]any{"lifecycleEvent": "UNPAUSE", "triggerName": "/ns/T"})
	feed = h.nextFeed()

	h.mustCall("ns", map[string]any{"lifecycleEvent": "UPDATE", "triggerName": "/ns/T", "topic": "u"})
	<-feed.stopped
	feed = h.nextFeed()
	if string(feed.reg.Params["topic"]) != `"u"` || string(feed.reg.Params["password"]) != `"hunter2"` {
		t.Errorf("UPDATE params = %v", feed.reg.Params)
	}

	// An UPDATE whose feed does not start puts the old parameters back.
	if _, err := h.call("ns", map[string]any{"lifecycleEvent": "UPDATE", "triggerName": "/ns/T", "topic": "unreachable"}); err == nil || !strings.Contains(err.Error(), "topic: unreachable") {
		t.Fatalf("UPDATE with a feed that cannot start: %v", err)
	}
	<-feed.stopped
	feed = h.nextFeed()
	if string(feed.reg.Params["topic"]) != `"u"` {
		t.Errorf("after a failed UPDATE the feed runs with %v", feed.reg.Params)
	}
	if got := h.mustCall("ns", map[string]any{"lifecycleEvent": "READ", "triggerName": "/ns/T"})["config"].(map[string]any)["topic"]; got != "u" {
		t.Errorf("READ after a failed UPDATE: topic %v", got)
	}

	h.mustCall("ns", map[string]any{"lifecycleEvent": "DELETE", "triggerName": "/ns/T"})
	<-feed.stopped
	if h.count(store.Feeds) != 0 {
		t.Error("the registration survived DELETE")
	}
	if _, err := h.call("ns", map[string]any{"lifecycleEvent": "READ", "triggerName": "/ns/T"}); err == nil || !strings.Contains(err.Error(), "has no feed") {
		t.Errorf("READ after DELETE: %v", err)
	}
	h.mustCall("ns", map[string]any{"lifecycleEvent": "DELETE", "triggerName": "/ns/T"}) // idempotent
}

func TestCreateFailureLeavesNothing(t *testing.T) {
	cases := []struct {
		name     string
		caller   string
		params   map[string]any
		validate error
		start    error
		want     string
	}{
		{name: "no trigger", caller: "ns", params: map[string]any{"triggerName": "/ns/missing", "topic": "t"}, want: "triggerName: trigger /ns/missing does not exist"},
		{name: "other namespace", caller: "other", params: map[string]any{"triggerName": "/ns/T", "topic": "t"}, want: "not in your namespace"},
		{name: "no triggerName", caller: "ns", params: map[string]any{"topic": "t"}, want: "triggerName: missing"},
		{name: "bad event", caller: "ns", params: map[string]any{"triggerName": "/ns/T", "lifecycleEvent": "FROB"}, want: "lifecycleEvent"},
		{name: "invalid params", caller: "ns", params: map[string]any{"triggerName": "/ns/T"}, want: "topic: missing"},
		{name: "provider refuses", caller: "ns", params: map[string]any{"triggerName": "/ns/T", "topic": "t"}, validate: errors.New("url: unreachable"), want: "url: unreachable"},
		{name: "start fails", caller: "ns", params: map[string]any{"triggerName": "/ns/T", "topic": "t"}, start: errors.New("connect: refused"), want: "connect: refused"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, openStore(t))
			h.trigger("ns", "T")
			h.provider.validateErr, h.provider.startErr = c.validate, c.start
			h.start()
			if _, ok := c.params["lifecycleEvent"]; !ok {
				c.params["lifecycleEvent"] = "CREATE"
			}
			_, err := h.call(c.caller, c.params)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("CREATE error = %v, want %q", err, c.want)
			}
			if n := h.count(store.Feeds); n != 0 {
				t.Errorf("%d registrations left", n)
			}
			if _, err := h.call("ns", map[string]any{"lifecycleEvent": "READ", "triggerName": "/ns/T"}); err == nil {
				t.Error("READ finds a feed after a failed CREATE")
			}
			// A correct CREATE works afterwards.
			h.provider.validateErr, h.provider.startErr = nil, nil
			h.create("ns", "/ns/T")
		})
	}
}

func TestCreateTwiceIsRefused(t *testing.T) {
	h := newHarness(t, openStore(t))
	h.trigger("ns", "T")
	h.start()
	h.create("ns", "/ns/T")
	_, err := h.call("ns", map[string]any{"lifecycleEvent": "CREATE", "triggerName": "/ns/T", "topic": "t"})
	if err == nil || !strings.Contains(err.Error(), "already has a feed") {
		t.Fatalf("second CREATE: %v", err)
	}
}

func TestDeliverPersistsBeforeReturning(t *testing.T) {
	h := newHarness(t, openStore(t))
	h.trigger("ns", "T")
	h.firer.failures, h.firer.err = -1, errors.New("bus down") // never succeeds
	h.start()
	feed := h.create("ns", "/ns/T")
	if err := feed.sink.Deliver(context.Background(), event(1, "c1")); err != nil {
		t.Fatal(err)
	}
	recs, err := h.store.List(context.Background(), SystemNamespace, store.FeedEvents, store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Fatalf("outbox holds %d events, want 1", len(recs))
	}
	var ev outboxEvent
	if err := json.Unmarshal(recs[0].Doc, &ev); err != nil || ev.Cursor != "c1" || string(ev.Payload) != `{"n":"1"}` {
		t.Errorf("outbox event %s (%v)", recs[0].Doc, err)
	}
	if err := feed.sink.Deliver(context.Background(), Event{Payload: json.RawMessage(`[1]`)}); err == nil {
		t.Error("a payload that is not an object was taken")
	}
}

func TestRetriesInOrder(t *testing.T) {
	h := newHarness(t, openStore(t))
	h.trigger("ns", "T")
	h.firer.failures, h.firer.err = 3, errors.New("bus down")
	h.start()
	feed := h.create("ns", "/ns/T")
	for i := 1; i <= 5; i++ {
		if err := feed.sink.Deliver(context.Background(), event(i, "")); err != nil {
			t.Fatal(err)
		}
	}
	h.waitFired("1", "2", "3", "4", "5")
	h.firer.mu.Lock()
	attempts := h.firer.attempts
	h.firer.mu.Unlock()
	if attempts != 8 {
		t.Errorf("%d fire attempts, want 8 (3 failures + 5)", attempts)
	}
	read := h.mustCall("ns", map[string]any{"lifecycleEvent": "READ", "triggerName": "/ns/T"})
	if !strings.Contains(fmt.Sprint(read["lastError"]), "bus down") {
		t.Errorf("READ lastError = %v", read["lastError"])
	}
}

func TestRestartResumesFromCursorAndFiresPending(t *testing.T) {
	st := openStore(t)
	h := newHarness(t, st)
	h.trigger("ns", "T")
	h.firer.failures, h.firer.err = -1, errors.New("bus down")
	h.start()
	feed := h.create("ns", "/ns/T")
	for i := 1; i <= 3; i++ {
		if err := feed.sink.Deliver(context.Background(), event(i, fmt.Sprintf("seq-%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	h2 := newHarness(t, st)
	h2.start()
	restarted := h2.nextFeed()
	if restarted.reg.Cursor != "seq-3" {
		t.Errorf("restarted from cursor %q, want seq-3", restarted.reg.Cursor)
	}
	h2.waitFired("1", "2", "3")
	if err := restarted.sink.Deliver(context.Background(), event(4, "seq-4")); err != nil {
		t.Fatal(err)
	}
	h2.waitFired("4")
	if err := h2.m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := h2.count(store.FeedEvents); n != 0 {
		t.Errorf("%d events left in the outbox after they fired", n)
	}
	reg, _, err := store.GetDoc[record](context.Background(), st, SystemNamespace, store.Feeds, "ns/T")
	if err != nil {
		t.Fatal(err)
	}
	if reg.Cursor != "seq-4" {
		t.Errorf("saved cursor %q, want seq-4", reg.Cursor)
	}
}

func TestDoneAfterFireDeletesTrigger(t *testing.T) {
	h := newHarness(t, openStore(t))
	h.trigger("ns", "T")
	h.start()
	feed := h.create("ns", "/ns/T")
	if err := feed.sink.Deliver(context.Background(), event(1, "")); err != nil {
		t.Fatal(err)
	}
	feed.sink.Done(true)
	h.waitFired("1")
	select {
	case got := <-h.triggers.deleted:
		if got.String() != "/ns/T" {
			t.Errorf("deleted %s", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the trigger was not deleted")
	}
	<-feed.stopped
	if _, err := h.call("ns", map[string]any{"lifecycleEvent": "READ", "triggerName": "/ns/T"}); err == nil {
		t.Error("the registration survived deleteAfterFire")
	}
}

func TestDoneFinishes(t *testing.T) {
	h := newHarness(t, openStore(t))
	h.trigger("ns", "T")
	h.start()
	feed := h.create("ns", "/ns/T")
	feed.sink.Done(false)
	<-feed.stopped
	// The finisher saves the status after stopping the feed; READ waits
	// for it (op).
	if got := h.mustCall("ns", map[string]any{"lifecycleEvent": "READ", "triggerName": "/ns/T"})["status"]; got != StatusFinished {
		t.Errorf("status = %v, want finished", got)
	}
	// A finished feed can be created again.
	h.create("ns", "/ns/T")
}

func TestTriggerGoneFailsTheFeed(t *testing.T) {
	h := newHarness(t, openStore(t))
	h.trigger("ns", "T")
	h.firer.failures, h.firer.err = 1, fmt.Errorf("fire trigger /ns/T: %w", store.ErrNotFound)
	h.start()
	feed := h.create("ns", "/ns/T")
	if err := feed.sink.Deliver(context.Background(), event(1, "")); err != nil {
		t.Fatal(err)
	}
	<-feed.stopped
	read := h.mustCall("ns", map[string]any{"lifecycleEvent": "READ", "triggerName": "/ns/T"})
	if read["status"] != StatusFailed || !strings.Contains(fmt.Sprint(read["lastError"]), "does not exist") {
		t.Errorf("READ = %v", read)
	}
}

func TestRedacted(t *testing.T) {
	in := map[string]json.RawMessage{
		"password":    json.RawMessage(`"pw"`),
		"accessToken": json.RawMessage(`"tok"`),
		"url":         json.RawMessage(`"mqtt://user:pw@host:1883"`),
		"plainURL":    json.RawMessage(`"http://host/x"`),
		"topic":       json.RawMessage(`"a/b"`),
	}
	out := Redacted(fakeParams, in)
	b, _ := json.Marshal(out)
	if strings.Contains(string(b), "pw") || strings.Contains(string(b), "tok") {
		t.Errorf("secrets left: %s", b)
	}
	if string(out["topic"]) != `"a/b"` || string(out["plainURL"]) != `"http://host/x"` || !strings.Contains(string(out["url"]), "mqtt://xxxxx@host") { // user names can be tokens
		t.Errorf("redacted too much: %s", b)
	}
}

// TestThrottledFireIsRetried checks that a fire refused by the namespace's
// fires-per-minute limit is retried with backoff, not dropped, and goes
// through, in order, once the next minute starts.
func TestThrottledFireIsRetried(t *testing.T) {
	h := newHarness(t, openStore(t))
	h.trigger("ns", "T")
	var mu sync.Mutex
	now := time.Date(2024, 5, 1, 12, 0, 5, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	h.firer.throttle = throttle.New(throttle.Config{Defaults: throttle.Limits{FiresPerMinute: 2}, Now: clock}, nil, nil)
	h.start()
	feed := h.create("ns", "/ns/T")
	for i := 1; i <= 4; i++ {
		if err := feed.sink.Deliver(context.Background(), event(i, "")); err != nil {
			t.Fatal(err)
		}
	}
	h.waitFired("1", "2")
	// The third fire is refused, again and again, until the minute ends.
	deadline := time.Now().Add(10 * time.Second)
	for {
		h.firer.mu.Lock()
		attempts := h.firer.attempts
		h.firer.mu.Unlock()
		if attempts >= 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d fire attempts: the throttled fire is not retried", attempts)
		}
		runtime.Gosched()
	}
	read := h.mustCall("ns", map[string]any{"lifecycleEvent": "READ", "triggerName": "/ns/T"})
	if want := "Too many requests in the last minute"; !strings.Contains(fmt.Sprint(read["lastError"]), want) {
		t.Errorf("READ lastError = %v, want the throttle's refusal", read["lastError"])
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	h.waitFired("3", "4")
	h.firer.mu.Lock()
	defer h.firer.mu.Unlock()
	if want := []string{"1", "2", "3", "4"}; !slices.Equal(h.firer.fired, want) {
		t.Fatalf("fired %v, want %v: each event once, in order", h.firer.fired, want)
	}
}

// TestDeliverRefusesOverLimits: a payload nesting deeper than
// entity.MaxJSONDepth or larger than the parameter limit is taken (the
// source may acknowledge it, so the feed goes on) but never stored nor
// fired, and READ says why.
func TestDeliverRefusesOverLimits(t *testing.T) {
	h := newHarness(t, openStore(t))
	h.trigger("ns", "T")
	h.start()
	feed := h.create("ns", "/ns/T")
	deep := `{"n":"deep","v":` + strings.Repeat("[", 9_998) + strings.Repeat("]", 9_998) + `}`
	large := `{"n":"large","v":"` + strings.Repeat("x", 1<<20) + `"}`
	for i, ev := range []Event{event(1, ""), {Payload: json.RawMessage(deep)}, {Payload: json.RawMessage(large)}, event(2, "")} {
		if err := feed.sink.Deliver(context.Background(), ev); err != nil {
			t.Fatalf("event %d not taken: %v", i, err)
		}
	}
	h.waitFired("1", "2")
	read := h.mustCall("ns", map[string]any{"lifecycleEvent": "READ", "triggerName": "/ns/T"})
	if msg := fmt.Sprint(read["lastError"]); !strings.Contains(msg, "event refused: the payload of") || !strings.Contains(msg, "exceeds the limit of 1048576 bytes") {
		t.Errorf("READ lastError = %q, want the last refusal (size)", msg)
	}
	if err := feed.sink.Deliver(context.Background(), Event{Payload: json.RawMessage(deep)}); err != nil {
		t.Fatal(err)
	}
	read = h.mustCall("ns", map[string]any{"lifecycleEvent": "READ", "triggerName": "/ns/T"})
	if msg := fmt.Sprint(read["lastError"]); !strings.Contains(msg, "deeper than the limit of 512 levels") {
		t.Errorf("READ lastError = %q, want the depth refusal", msg)
	}
}

// TestUnfireableStoredEventDoesNotStallTheFeed: an outbox event stored
// before deliver checked the limits (one too deep to become parameters)
// is removed with an error in READ, and the events after it fire.
func TestUnfireableStoredEventDoesNotStallTheFeed(t *testing.T) {
	st := openStore(t)
	h := newHarness(t, st)
	h.trigger("ns", "T")
	h.firer.failures, h.firer.err = -1, errors.New("bus down")
	h.start()
	h.create("ns", "/ns/T")
	if err := h.m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	deep := `{"v":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`
	for i, payload := range []string{deep, `{"n":"2"}`} {
		ev := outboxEvent{Trigger: "ns/T", Seq: uint64(i + 1), Payload: json.RawMessage(payload)}
		if _, err := store.PutDoc(context.Background(), st, SystemNamespace, store.FeedEvents, ev.key(), "", ev); err != nil {
			t.Fatal(err)
		}
	}
	h2 := newHarness(t, st)
	h2.start()
	h2.waitFired("2")
	read := h2.mustCall("ns", map[string]any{"lifecycleEvent": "READ", "triggerName": "/ns/T"})
	if msg := fmt.Sprint(read["lastError"]); !strings.Contains(msg, "deeper than the limit") {
		t.Errorf("READ lastError = %q, want the depth limit named", msg)
	}
}

// TestFeedKeepsNoOwnerKey: the owner's key a feed action receives as
// authKey is not stored; a registration holds nothing that acts as them.
func TestFeedKeepsNoOwnerKey(t *testing.T) {
	h := newHarness(t, openStore(t))
	creds := entity.NewCredentials()
	if err := h.store.CreateSubject(context.Background(), entity.Subject{Namespace: "ns", UUID: creds.UUID, KeyHash: entity.HashKey(creds.Key)}); err != nil {
		t.Fatal(err)
	}
	h.trigger("ns", "T")
	h.start()
	h.mustCall("ns", map[string]any{"lifecycleEvent": "CREATE", "triggerName": "/ns/T", "authKey": creds.String(), "topic": "t"})
	h.nextFeed()
	recs, err := h.store.List(context.Background(), SystemNamespace, store.Feeds, store.ListOptions{})
	if err != nil || len(recs) != 1 {
		t.Fatalf("registrations %v, %v", recs, err)
	}
	if strings.Contains(string(recs[0].Doc), creds.Key) {
		t.Fatalf("the registration stores the owner's key: %s", recs[0].Doc)
	}
}
