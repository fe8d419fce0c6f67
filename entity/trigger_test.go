package entity

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestBuildTrigger(t *testing.T) {
	lim := DefaultSystemLimits()
	lim.ParamsSize = 64
	fqn := FQN{Namespace: "ns", Name: "T"}
	existing := &Trigger{Namespace: "ns", Name: "T", Version: "0.0.3", Parameters: Params{{Key: "a", Value: json.RawMessage(`1`)}},
		Rules: map[string]ReducedRule{"ns/R": {Action: EntityRef{Path: "ns", Name: "A"}, Status: StatusActive}}}
	tests := []struct {
		name      string
		fqn       FQN
		req       string
		existing  *Trigger
		wantField string // "" means success
		check     func(t *testing.T, tr *Trigger)
	}{
		{name: "create defaults", fqn: fqn, req: `{}`, check: func(t *testing.T, tr *Trigger) {
			b, _ := json.Marshal(tr)
			if tr.Version != "0.0.1" || tr.Namespace != "ns" || tr.Updated != 7 ||
				!strings.Contains(string(b), `"limits":{}`) || strings.Contains(string(b), `"rules"`) {
				t.Fatalf("trigger = %s", b)
			}
		}},
		{name: "create with parameters and feed", fqn: fqn, req: `{"parameters":[{"key":"x","value":"y"}],"annotations":[{"key":"feed","value":"/whisk.system/alarms/alarm"}],"limits":{}}`,
			check: func(t *testing.T, tr *Trigger) {
				if v, _ := tr.Parameters.GetString("x"); v != "y" {
					t.Fatalf("parameters = %+v", tr.Parameters)
				}
			}},
		{name: "update keeps rules and parameters", fqn: fqn, req: `{"publish":true}`, existing: existing, check: func(t *testing.T, tr *Trigger) {
			if tr.Version != "0.0.4" || !tr.Publish || len(tr.Rules) != 1 || len(tr.Parameters) != 1 {
				t.Fatalf("trigger = %+v", tr)
			}
		}},
		{name: "name mismatch", fqn: fqn, req: `{"name":"U"}`, wantField: "name"},
		{name: "in a package", fqn: FQN{Namespace: "ns", Package: "p", Name: "T"}, req: `{}`, wantField: "name"},
		{name: "duplicate parameter", fqn: fqn, req: `{"parameters":[{"key":"x","value":1},{"key":"x","value":2}]}`, wantField: "parameters"},
		{name: "parameters too large", fqn: fqn, req: `{"parameters":[{"key":"x","value":"` + strings.Repeat("a", 100) + `"}]}`, wantField: "parameters"},
		{name: "bad feed", fqn: fqn, req: `{"annotations":[{"key":"feed","value":"/a/b/c/d"}]}`, wantField: "annotations.feed"},
		{name: "feed not a string", fqn: fqn, req: `{"annotations":[{"key":"feed","value":3}]}`, wantField: "annotations.feed"},
		{name: "limits not an object", fqn: fqn, req: `{"limits":3}`, wantField: "limits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req TriggerPut
			if err := json.Unmarshal([]byte(tt.req), &req); err != nil {
				t.Fatal(err)
			}
			tr, err := BuildTrigger(tt.fqn, &req, tt.existing, lim, 7)
			if tt.wantField != "" {
				fe, ok := AsFieldError(err)
				if !ok || fe.Field != tt.wantField {
					t.Fatalf("err = %v, want a FieldError on %q", err, tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, tr)
		})
	}
}

func TestTriggerRuleLinks(t *testing.T) {
	tr := &Trigger{Namespace: "ns", Name: "T"}
	rule, action := FQN{Namespace: "ns", Name: "R"}, FQN{Namespace: "other", Package: "p", Name: "A"}
	linked := tr.WithRule(rule, action, StatusActive)
	if tr.Rules != nil {
		t.Fatal("WithRule changed the original")
	}
	want := ReducedRule{Action: EntityRef{Path: "other/p", Name: "A"}, Status: StatusActive}
	if got := linked.Rules["ns/R"]; !reflect.DeepEqual(got, want) || linked.ActiveRules() != 1 {
		t.Fatalf("rules = %+v", linked.Rules)
	}
	if linked.Rules["ns/R"].Action.FQN() != action {
		t.Fatalf("ref round trip = %+v", linked.Rules["ns/R"].Action.FQN())
	}
	disabled := linked.WithRule(rule, action, StatusInactive)
	if disabled.ActiveRules() != 0 || linked.ActiveRules() != 1 {
		t.Fatal("disable did not copy")
	}
	if un := linked.WithoutRule(rule); len(un.Rules) != 0 || len(linked.Rules) != 1 {
		t.Fatal("WithoutRule did not copy")
	}
}
