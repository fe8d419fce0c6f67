package routing

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/store/bolt"
)

// TestTriggersKeepIndexAndReload: every write through Triggers shows in
// the index at once, and an index loaded afresh from the store agrees.
func TestTriggersKeepIndexAndReload(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "wisp.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := t.Context()
	for _, ns := range []string{"a", "b"} {
		if err := st.CreateSubject(ctx, entity.Subject{Namespace: ns, UUID: ns}); err != nil {
			t.Fatal(err)
		}
		if _, err := store.PutDoc(ctx, st, ns, store.Actions, "act", "", entity.Action{Namespace: ns, Name: "act"}); err != nil {
			t.Fatal(err)
		}
	}
	lim := entity.DefaultSystemLimits()
	x := NewRuleIndex()
	tr := NewTriggers(st, x, NewResolver(st).CheckRuleAction, lim)
	ruleReq := func(trigger string) *entity.RulePut {
		return &entity.RulePut{Trigger: json.RawMessage(`"` + trigger + `"`), Action: json.RawMessage(`"act"`)}
	}
	steps := []struct {
		name string
		do   func() error
	}{
		{"trigger a/T1", func() error { _, err := tr.PutTrigger(ctx, fqn("a", "T1"), &entity.TriggerPut{}, false); return err }},
		{"trigger a/T2", func() error { _, err := tr.PutTrigger(ctx, fqn("a", "T2"), &entity.TriggerPut{}, false); return err }},
		{"trigger b/T1", func() error { _, err := tr.PutTrigger(ctx, fqn("b", "T1"), &entity.TriggerPut{}, false); return err }},
		{"rule a/R1", func() error { _, err := tr.PutRule(ctx, "a", fqn("a", "R1"), ruleReq("T1"), false); return err }},
		{"rule a/R2", func() error { _, err := tr.PutRule(ctx, "a", fqn("a", "R2"), ruleReq("T1"), false); return err }},
		{"rule b/R1", func() error { _, err := tr.PutRule(ctx, "b", fqn("b", "R1"), ruleReq("T1"), false); return err }},
		{"disable a/R2", func() error { _, err := tr.SetRuleStatus(ctx, fqn("a", "R2"), entity.StatusInactive); return err }},
		{"move a/R1 to T2", func() error { _, err := tr.PutRule(ctx, "a", fqn("a", "R1"), ruleReq("T2"), true); return err }},
		{"update trigger a/T2 keeps rules", func() error {
			_, err := tr.PutTrigger(ctx, fqn("a", "T2"), &entity.TriggerPut{Parameters: entity.Params{{Key: "k", Value: json.RawMessage(`1`)}}}, true)
			return err
		}},
		{"delete trigger b/T1", func() error { _, err := tr.DeleteTrigger(ctx, fqn("b", "T1")); return err }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
	want := map[entity.FQN]struct {
		rules, active int
		exists        bool
	}{
		fqn("a", "T1"): {rules: 1, active: 0, exists: true},
		fqn("a", "T2"): {rules: 1, active: 1, exists: true},
		fqn("b", "T1"): {},
	}
	loaded := NewRuleIndex()
	if err := loaded.Load(ctx, st); err != nil {
		t.Fatal(err)
	}
	for name, w := range want {
		for which, idx := range map[string]*RuleIndex{"kept": x, "loaded": loaded} {
			e, ok := idx.Lookup(name)
			if ok != w.exists || ok && (len(e.Rules) != w.rules || e.Active != w.active) {
				t.Fatalf("%s index: %s = %+v, %v; want %+v", which, name, e, ok, w)
			}
		}
	}
	if e, _ := loaded.Lookup(fqn("a", "T2")); len(e.Parameters) != 1 || e.Rules[0].Action != fqn("a", "act") {
		t.Fatalf("a/T2 = %+v", e)
	}
}

// TestTriggerRuleLimit: a trigger links at most RulesPerTrigger rules
// (each rule put rewrites the trigger with all its links): one more is
// refused naming the trigger, while a linked rule may still be updated,
// and unlinking one makes room.
func TestTriggerRuleLimit(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "wisp.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := t.Context()
	if err := st.CreateSubject(ctx, entity.Subject{Namespace: "a", UUID: "a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.PutDoc(ctx, st, "a", store.Actions, "act", "", entity.Action{Namespace: "a", Name: "act"}); err != nil {
		t.Fatal(err)
	}
	lim := entity.DefaultSystemLimits()
	lim.RulesPerTrigger = 3
	tr := NewTriggers(st, NewRuleIndex(), NewResolver(st).CheckRuleAction, lim)
	for _, name := range []string{"T", "U"} {
		if _, err := tr.PutTrigger(ctx, fqn("a", name), &entity.TriggerPut{}, false); err != nil {
			t.Fatal(err)
		}
	}
	put := func(rule, trigger string, overwrite bool) error {
		_, err := tr.PutRule(ctx, "a", fqn("a", rule), &entity.RulePut{Trigger: json.RawMessage(`"` + trigger + `"`), Action: json.RawMessage(`"act"`)}, overwrite)
		return err
	}
	for _, s := range []struct {
		name    string
		do      func() error
		refused bool
	}{
		{"R1", func() error { return put("R1", "T", false) }, false},
		{"R2", func() error { return put("R2", "T", false) }, false},
		{"R3", func() error { return put("R3", "T", false) }, false},
		{"R4 over the limit", func() error { return put("R4", "T", false) }, true},
		{"update R3", func() error { return put("R3", "T", true) }, false},
		{"R4 on another trigger", func() error { return put("R4", "U", false) }, false},
		{"move R4 to the full trigger", func() error { return put("R4", "T", true) }, true},
		{"delete R1", func() error { _, err := tr.DeleteRule(ctx, fqn("a", "R1")); return err }, false},
		{"move R4 once there is room", func() error { return put("R4", "T", true) }, false},
	} {
		err := s.do()
		fe, isField := entity.AsFieldError(err)
		switch {
		case !s.refused && err != nil:
			t.Fatalf("%s: %v", s.name, err)
		case s.refused && (!isField || fe.Field != "trigger"):
			t.Fatalf("%s: err = %v, want a refusal naming the trigger", s.name, err)
		}
	}
	if e, _ := tr.Index().Lookup(fqn("a", "T")); len(e.Rules) != 3 {
		t.Fatalf("T links %d rules, want 3", len(e.Rules))
	}
}
