package routing

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/store/bolt"
)

// bothSink records activations whichever way a firer writes them.
type bothSink struct{ recordingSink }

func (s *bothSink) PutActivations(ctx context.Context, acts []*entity.Activation) error {
	return s.WriteActivations(ctx, acts)
}

// filterFixture is a store with actions a1..a3 in ns, trigger T and the
// rule writer over an index.
type filterFixture struct {
	st    store.Store
	index *RuleIndex
	tr    *Triggers
}

func newFilterFixture(t *testing.T) *filterFixture {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "wisp.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := t.Context()
	if err := st.CreateSubject(ctx, entity.Subject{Namespace: "ns", UUID: "ns"}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"a1", "a2", "a3"} {
		if _, err := store.PutDoc(ctx, st, "ns", store.Actions, a, "", entity.Action{Namespace: "ns", Name: a, Exec: entity.Exec{Kind: "nodejs:20", Code: "x"}}); err != nil {
			t.Fatal(err)
		}
	}
	x := NewRuleIndex()
	tr := NewTriggers(st, x, NewResolver(st).CheckRuleAction, entity.DefaultSystemLimits())
	if _, err := tr.PutTrigger(ctx, fqn("ns", "T"), &entity.TriggerPut{Parameters: entity.Params{{Key: "site", Value: json.RawMessage(`"north"`)}}}, false); err != nil {
		t.Fatal(err)
	}
	return &filterFixture{st: st, index: x, tr: tr}
}

func (fx *filterFixture) rule(t *testing.T, name, action, filter string, overwrite bool) {
	t.Helper()
	req := &entity.RulePut{Trigger: json.RawMessage(`"T"`), Action: json.RawMessage(`"` + action + `"`)}
	if filter != "" {
		req.Filter = json.RawMessage(filter)
	}
	if _, err := fx.tr.PutRule(t.Context(), "ns", fqn("ns", name), req, overwrite); err != nil {
		t.Fatalf("rule %s: %v", name, err)
	}
}

// started lists the rules whose action a fire started, and the filtered.
func started(res *FireResult) (run, filtered []string) {
	for _, r := range res.Rules {
		switch {
		case r.Filtered:
			filtered = append(filtered, r.Rule)
		case r.Success:
			run = append(run, r.Rule)
		}
	}
	return run, filtered
}

// TestFiltersDecideWhichRulesRun: each rule's filter is evaluated on the
// fire's params (the trigger's merged with the payload) and event; only
// the rules that pass start their action, the others are logged in the
// trigger activation with the reason; a fire no rule passes is still
// recorded.
func TestFiltersDecideWhichRulesRun(t *testing.T) {
	fx := newFilterFixture(t)
	fx.rule(t, "hot", "a1", `"params.temp > 30"`, false)
	fx.rule(t, "kitchen", "a2", `{"exact": {"subject": "sensors/kitchen"}, "prefix": {"params.site": "no"}}`, false)
	fx.rule(t, "all", "a3", "", false)
	ctrl, _ := startBus(t, nil)
	sink := &bothSink{}
	f := NewFirer(fx.index, NewActivator(fx.st, ctrl), sink, slog.New(slog.NewTextHandler(io.Discard, nil)))

	kitchen := &entity.EventAttributes{Source: "mqtt://b", ID: "1", Subject: "sensors/kitchen"}
	for _, tc := range []struct {
		name          string
		payload       string
		event         *entity.EventAttributes
		run, filtered string
		reason        string // in the trigger activation's logs
	}{
		{"hot in the kitchen", `{"temp": 35}`, kitchen, "ns/all ns/hot ns/kitchen", "", ""},
		{"cold in the kitchen", `{"temp": 5}`, kitchen, "ns/all ns/kitchen", "ns/hot", "the filter did not match"},
		{"no temp, no event", `{}`, nil, "ns/all", "ns/hot ns/kitchen", "no such key: temp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := entity.ParamsFromObject("p", []byte(tc.payload))
			res, err := f.Fire(t.Context(), FireRequest{Trigger: fqn("ns", "T"), Subject: "ns", Payload: p, Event: tc.event})
			if err != nil {
				t.Fatal(err)
			}
			run, filtered := started(res)
			if strings.Join(run, " ") != tc.run || strings.Join(filtered, " ") != tc.filtered {
				t.Fatalf("ran %v, filtered %v; want %q, %q", run, filtered, tc.run, tc.filtered)
			}
			if logs := strings.Join(res.Activation.Logs, "\n"); !strings.Contains(logs, tc.reason) {
				t.Fatalf("logs %s do not say %q", logs, tc.reason)
			}
		})
	}

	// With "all" gone, a fire no filter passes starts nothing and is
	// recorded, saying why for each rule.
	if _, err := fx.tr.DeleteRule(t.Context(), fqn("ns", "all")); err != nil {
		t.Fatal(err)
	}
	sink.acts = nil
	p, _ := entity.ParamsFromObject("p", []byte(`{"temp": 1}`))
	res, err := f.Fire(t.Context(), FireRequest{Trigger: fqn("ns", "T"), Subject: "ns", Payload: p})
	if err != nil {
		t.Fatal(err)
	}
	if run, _ := started(res); len(run) != 0 {
		t.Fatalf("ran %v, want nothing", run)
	}
	// Both did not match: one log line lists them.
	if len(sink.acts) != 1 || sink.acts[0].ActivationID != res.Activation.ActivationID || len(sink.acts[0].Logs) != 1 {
		t.Fatalf("recorded %+v, want the one trigger activation with one log line", sink.acts)
	}
	if line := sink.acts[0].Logs[0]; !strings.Contains(line, `"filtered":true,"count":2,"rules":["ns/hot","ns/kitchen"]`) || !strings.Contains(line, "2 rules filtered the event out: the filter did not match") {
		t.Fatalf("log line %s", line)
	}
}

// TestRuleLogsGroupFilteredRules: the rules a fire filtered out for the
// same reason share one log line, where the first of them was; the others
// keep OpenWhisk's line per rule.
func TestRuleLogsGroupFilteredRules(t *testing.T) {
	r := func(name string) IndexedRule { return IndexedRule{Rule: fqn("ns", name), Action: fqn("ns", "a")} }
	results := []RuleResult{
		{StatusCode: 0, Success: true, ActivationID: "x", Rule: "ns/a", Action: "ns/a"},
		filteredResult(r("b"), reasonNoMatch),
		filteredResult(r("c"), "the filter failed (no such key: t), which counts as no match"),
		inactiveResult(r("d")),
		filteredResult(r("e"), reasonNoMatch),
		filteredResult(r("f"), reasonNoMatch),
	}
	got := ruleLogs(results)
	want := []string{
		`{"statusCode":0,"success":true,"activationId":"x","rule":"ns/a","action":"ns/a"}`,
		`{"statusCode":1,"success":false,"error":"3 rules filtered the event out: the filter did not match; their actions were not activated.","rule":"","action":"","filtered":true,"count":3,"rules":["ns/b","ns/e","ns/f"]}`,
		`{"statusCode":1,"success":false,"error":"Rule 'ns/c' filtered the event out: the filter failed (no such key: t), which counts as no match; action 'ns/a' was not activated.","rule":"ns/c","action":"ns/a","filtered":true}`,
		`{"statusCode":1,"success":false,"error":"Rule 'ns/d' is inactive, action 'ns/a' was not activated.","rule":"ns/d","action":"ns/a"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("logs\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The hand-written line is what json.Marshal makes of the result.
	var back RuleResult
	if err := json.Unmarshal([]byte(got[1]), &back); err != nil || back.Count != 3 || len(back.Rules) != 3 {
		t.Fatalf("group line %s decodes to %+v, %v", got[1], back, err)
	}
	b, _ := json.Marshal(back)
	if string(b) != got[1] {
		t.Fatalf("json.Marshal renders\n%s\nnot\n%s", b, got[1])
	}
	// A long group lists the first maxListed names and counts them all.
	many := make([]string, 250)
	for i := range many {
		many[i] = fmt.Sprintf("ns/r%d", i)
	}
	if err := json.Unmarshal([]byte(groupLine(many, len(many), reasonNoMatch)), &back); err != nil || back.Count != 250 || len(back.Rules) != maxListed || !strings.Contains(back.Error, "(the first 5 listed)") {
		t.Fatalf("long group %+v, %v", back, err)
	}
}

// TestFilterDecisionsTravelWithTheQueuedFire: with the triggers queue, a
// fire no rule passes is recorded at once and never queued; one that some
// rule passes is queued with the event and the decisions, and the
// controller that runs it starts only those rules.
func TestFilterDecisionsTravelWithTheQueuedFire(t *testing.T) {
	fx := newFilterFixture(t)
	fx.rule(t, "typed", "a1", `{"exact": {"type": "com.example.order"}}`, false)
	fx.rule(t, "big", "a2", `"params.total >= 100"`, false)
	ctrl, _ := startBus(t, nil)
	sink := &bothSink{}
	f := NewFirer(fx.index, NewActivator(fx.st, ctrl), sink, slog.New(slog.NewTextHandler(io.Discard, nil)))
	pub := &recordingPublisher{}
	f.Queue(pub)

	p, _ := entity.ParamsFromObject("p", []byte(`{"total": 5}`))
	res, err := f.Fire(t.Context(), FireRequest{Trigger: fqn("ns", "T"), Subject: "ns", Payload: p, Event: &entity.EventAttributes{Type: "com.example.refund"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(pub.sent) != 0 || len(sink.acts) != 1 || sink.acts[0].ActivationID != res.Activation.ActivationID {
		t.Fatalf("queued %d fires, recorded %d; want none queued, the trigger activation recorded", len(pub.sent), len(sink.acts))
	}

	ev := &entity.EventAttributes{Type: "com.example.order", Source: "shop", ID: "o-1"}
	if _, err := f.Fire(t.Context(), FireRequest{Trigger: fqn("ns", "T"), Subject: "ns", Payload: p, Event: ev}); err != nil {
		t.Fatal(err)
	}
	if len(pub.sent) != 1 {
		t.Fatalf("queued %d fires, want 1", len(pub.sent))
	}
	var q queuedFire
	if err := json.Unmarshal(pub.sent[0].Payload, &q); err != nil {
		t.Fatal(err)
	}
	if q.Request.Event == nil || q.Request.Event.Type != ev.Type || !q.Request.FiltersDecided || len(q.Request.FilterPassed) != 1 || q.Request.FilterPassed[0] != "ns/typed" {
		t.Fatalf("queued request = %+v", q.Request)
	}
	durable := &recordingSink{}
	if err := f.HandleQueued(t.Context(), message.NewMessage(pub.sent[0].UUID, pub.sent[0].Payload), durable); err != nil {
		t.Fatal(err)
	}
	if len(durable.acts) != 1 {
		t.Fatalf("recorded %d trigger activations", len(durable.acts))
	}
	logs := strings.Join(durable.acts[0].Logs, "\n")
	if !strings.Contains(logs, `"success":true,"activationId"`) || !strings.Contains(logs, "Rule 'ns/big' filtered the event out") {
		t.Fatalf("logs = %s", logs)
	}
}

// TestFilterChangesReachTheIndex: creating, changing and removing a rule's
// filter (and disabling and enabling the rule) shows in the writer's index
// at once and, through the announcements SyncIndex applies, in another
// controller's; a bad filter is refused naming the field and the position,
// and changes nothing.
func TestFilterChangesReachTheIndex(t *testing.T) {
	fx := newFilterFixture(t)
	other := NewRuleIndex()
	var announced []entity.FQN
	fx.tr.changed = func(trigger entity.FQN) { announced = append(announced, trigger) }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// sync applies the announcements so far to other, as a controller's
	// SyncIndex does with the entities topic.
	sync := func() {
		msgs := make(chan *message.Message, len(announced))
		for _, a := range announced {
			b, _ := json.Marshal(a)
			msgs <- message.NewMessage(entity.NewActivationID(), b)
		}
		announced = nil
		close(msgs)
		SyncIndex(t.Context(), other, fx.st, msgs, log)
	}
	source := func(x *RuleIndex) string {
		e, ok := x.Lookup(fqn("ns", "T"))
		if !ok || len(e.Rules) != 1 {
			t.Fatalf("entry = %+v", e)
		}
		if e.Rules[0].Filter == nil {
			return ""
		}
		return e.Rules[0].Filter.Source
	}
	steps := []struct {
		name string
		do   func() error
		want string
	}{
		{"create with a filter", func() error { fx.rule(t, "R", "a1", `"params.x == 1"`, false); return nil }, `"params.x == 1"`},
		{"change the filter", func() error { fx.rule(t, "R", "a1", `{"exact": {"type": "t"}}`, true); return nil }, `{"exact":{"type":"t"}}`},
		{"update without a filter keeps it", func() error { fx.rule(t, "R", "a2", "", true); return nil }, `{"exact":{"type":"t"}}`},
		{"disable keeps it", func() error {
			_, err := fx.tr.SetRuleStatus(t.Context(), fqn("ns", "R"), entity.StatusInactive)
			return err
		}, `{"exact":{"type":"t"}}`},
		{"enable keeps it", func() error {
			_, err := fx.tr.SetRuleStatus(t.Context(), fqn("ns", "R"), entity.StatusActive)
			return err
		}, `{"exact":{"type":"t"}}`},
		{"a bad filter changes nothing", func() error {
			_, err := fx.tr.PutRule(t.Context(), "ns", fqn("ns", "R"), &entity.RulePut{Filter: json.RawMessage(`"params.x >"`)}, true)
			if fe, ok := entity.AsFieldError(err); !ok || !strings.HasPrefix(fe.Error(), "filter: line 1, column 11: Syntax error") {
				t.Fatalf("bad filter: %v", err)
			}
			return nil
		}, `{"exact":{"type":"t"}}`},
		{"remove the filter", func() error { fx.rule(t, "R", "a1", `null`, true); return nil }, ""},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		sync()
		if got := source(fx.index); got != s.want {
			t.Fatalf("%s: the writer's index has %q, want %q", s.name, got, s.want)
		}
		if got := source(other); got != s.want {
			t.Fatalf("%s: the synced index has %q, want %q", s.name, got, s.want)
		}
		r, err := fx.tr.GetRule(t.Context(), fqn("ns", "R"))
		if err != nil || string(r.Filter) != s.want {
			t.Fatalf("%s: GET rule = %s, %v; want filter %q", s.name, r.Filter, err, s.want)
		}
	}
}

// TestFilteredOutRecordStaysSmall: a fire of a trigger with a thousand
// filtered rules none of which passes writes a trigger activation of a few
// short lines (rules filtered alike share one, with their count and at
// most maxListed names), whether the lines come from the index (no filter
// failed) or are made for the fire (one failed).
func TestFilteredOutRecordStaysSmall(t *testing.T) {
	tr := &entity.Trigger{Namespace: "ns", Name: "T"}
	for i := range 1000 {
		filter := fmt.Sprintf(`"params.device == 'd%d'"`, i)
		switch i % 3 {
		case 1:
			filter = fmt.Sprintf(`{"exact": {"subject": "s%d"}}`, i)
		case 2:
			filter = fmt.Sprintf(`"params.temp > %d.0"`, 100+i) // unguarded
		}
		rule := fqn("ns", fmt.Sprintf("r%04d", i))
		tr = tr.WithRule(rule, fqn("ns", "a"), entity.StatusActive).WithRuleFilter(rule, json.RawMessage(filter))
	}
	failing := fqn("ns", "z-fails")
	tr = tr.WithRule(failing, fqn("ns", "a"), entity.StatusActive).WithRuleFilter(failing, json.RawMessage(`"params.missing > 1"`))
	tr = tr.WithRule(fqn("ns", "z-off"), fqn("ns", "a"), entity.StatusInactive)
	x := NewRuleIndex()
	x.Put(tr)
	sink := &bothSink{}
	f := &Firer{index: x, activator: &Activator{ctrl: &Controller{}}, sink: sink, log: slog.New(slog.NewTextHandler(io.Discard, nil))}

	for _, tc := range []struct {
		name    string
		payload string
		lines   []string // what each line says, in order
		counts  []int    // the count of each line (0: a line of one rule)
	}{
		{"none fails", `{"device": "nobody", "temp": 1, "missing": 0}`,
			[]string{"1001 rules filtered the event out: the filter did not match", "Rule 'ns/z-off' is inactive"}, []int{1001, 0}},
		{"one fails", `{"device": "nobody", "temp": 1}`,
			[]string{"1000 rules filtered the event out: the filter did not match", "Rule 'ns/z-fails' filtered the event out: the filter failed", "Rule 'ns/z-off' is inactive"}, []int{1000, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink.acts = nil
			p, _ := entity.ParamsFromObject("p", []byte(tc.payload))
			res, err := f.Fire(t.Context(), FireRequest{Trigger: tr.FQN(), Subject: "ns", Payload: p})
			if err != nil || res == nil || len(sink.acts) != 1 {
				t.Fatalf("fire: %v, %v, %d records", res, err, len(sink.acts))
			}
			logs := sink.acts[0].Logs
			if len(logs) != len(tc.lines) {
				t.Fatalf("%d log lines, want %d:\n%s", len(logs), len(tc.lines), strings.Join(logs, "\n"))
			}
			size := 0
			for i, line := range logs {
				size += len(line)
				var r RuleResult
				if err := json.Unmarshal([]byte(line), &r); err != nil || !strings.Contains(r.Error, tc.lines[i]) || r.Count != tc.counts[i] || len(r.Rules) > maxListed {
					t.Errorf("line %d %s (%v), want it to say %q, count %d, at most %d names", i, line, err, tc.lines[i], tc.counts[i], maxListed)
				}
			}
			if size > 1024 {
				t.Errorf("the logs take %d bytes, want at most 1 KiB", size)
			}
		})
	}
}
