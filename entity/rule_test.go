package entity

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseRef(t *testing.T) {
	tests := []struct {
		raw     string
		want    FQN
		present bool
		bad     bool
	}{
		{raw: ``},
		{raw: `null`},
		{raw: `"/_/T"`, want: FQN{Namespace: "me", Name: "T"}, present: true},
		{raw: `"T"`, want: FQN{Namespace: "me", Name: "T"}, present: true},
		{raw: `"/other/T"`, want: FQN{Namespace: "other", Name: "T"}, present: true},
		{raw: `"other/T"`, want: FQN{Namespace: "other", Name: "T"}, present: true},
		{raw: `"/ns/pkg/A"`, want: FQN{Namespace: "ns", Package: "pkg", Name: "A"}, present: true},
		{raw: `{"path":"ns/pkg","name":"A"}`, want: FQN{Namespace: "ns", Package: "pkg", Name: "A"}, present: true},
		{raw: `{"path":"_","name":"A"}`, want: FQN{Namespace: "me", Name: "A"}, present: true},
		{raw: `{"name":"A"}`, bad: true},
		{raw: `"/a/b/c/d"`, bad: true},
		{raw: `"/ns/bad!name"`, bad: true},
		{raw: `""`, bad: true},
		{raw: `42`, bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, present, err := ParseRef("trigger", json.RawMessage(tt.raw), "me")
			if tt.bad {
				if fe, ok := AsFieldError(err); !ok || !strings.HasPrefix(fe.Field, "trigger") {
					t.Fatalf("err = %v, want a FieldError on trigger", err)
				}
				return
			}
			if err != nil || got != tt.want || present != tt.present {
				t.Fatalf("ParseRef = %+v, %v, %v; want %+v, %v", got, present, err, tt.want, tt.present)
			}
		})
	}
}

func TestBuildRule(t *testing.T) {
	lim := DefaultSystemLimits()
	fqn := FQN{Namespace: "ns", Name: "R"}
	existing := &Rule{Namespace: "ns", Name: "R", Version: "0.0.1", Status: StatusActive,
		Trigger: EntityRef{Path: "ns", Name: "T"}, Action: EntityRef{Path: "ns", Name: "A"}}
	tests := []struct {
		name      string
		req       string
		existing  *Rule
		wantField string
		want      *Rule
	}{
		{name: "create wsk form", req: `{"name":"R","status":"","trigger":"/_/T","action":"/_/A"}`,
			want: &Rule{Namespace: "ns", Name: "R", Version: "0.0.1", Annotations: Params{}, Trigger: EntityRef{Path: "ns", Name: "T"}, Action: EntityRef{Path: "ns", Name: "A"}, Updated: 9}},
		{name: "create packaged action", req: `{"trigger":"T","action":"/other/pkg/A"}`,
			want: &Rule{Namespace: "ns", Name: "R", Version: "0.0.1", Annotations: Params{}, Trigger: EntityRef{Path: "ns", Name: "T"}, Action: EntityRef{Path: "other/pkg", Name: "A"}, Updated: 9}},
		{name: "update action only", req: `{"action":"/_/B"}`, existing: existing,
			want: &Rule{Namespace: "ns", Name: "R", Version: "0.0.2", Annotations: Params{}, Trigger: EntityRef{Path: "ns", Name: "T"}, Action: EntityRef{Path: "ns", Name: "B"}, Updated: 9}},
		{name: "update with nulls keeps both", req: `{"status":"inactive","trigger":null,"action":null}`, existing: existing,
			want: &Rule{Namespace: "ns", Name: "R", Version: "0.0.2", Annotations: Params{}, Trigger: EntityRef{Path: "ns", Name: "T"}, Action: EntityRef{Path: "ns", Name: "A"}, Updated: 9}},
		{name: "create without action", req: `{"trigger":"/_/T"}`, wantField: "action"},
		{name: "create without trigger", req: `{"action":"/_/A"}`, wantField: "trigger"},
		{name: "malformed action", req: `{"trigger":"/_/T","action":"/_/a/b/c"}`, wantField: "action"},
		{name: "trigger in a package", req: `{"trigger":"/_/p/T","action":"/_/A"}`, wantField: "trigger"},
		{name: "name mismatch", req: `{"name":"X","trigger":"/_/T","action":"/_/A"}`, wantField: "name"},
		{name: "bad annotations", req: `{"trigger":"/_/T","action":"/_/A","annotations":[{"key":""}]}`, wantField: "annotations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req RulePut
			if err := json.Unmarshal([]byte(tt.req), &req); err != nil {
				t.Fatal(err)
			}
			r, err := BuildRule(fqn, &req, tt.existing, lim, 9)
			if tt.wantField != "" {
				if fe, ok := AsFieldError(err); !ok || fe.Field != tt.wantField {
					t.Fatalf("err = %v, want a FieldError on %q", err, tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(r)
			want, _ := json.Marshal(tt.want)
			if string(got) != string(want) {
				t.Fatalf("rule = %s\nwant   %s", got, want)
			}
		})
	}
}

func TestParseRuleStatus(t *testing.T) {
	tests := []struct {
		body, want string
		bad        bool
	}{
		{body: `{"status":"active"}`, want: StatusActive},
		{body: `{"status":"inactive","trigger":null,"action":null}`, want: StatusInactive},
		{body: `{"status":"xxx"}`, bad: true},
		{body: `{}`, bad: true},
		{body: ``, bad: true},
		{body: `{"status":1}`, bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			got, err := ParseRuleStatus([]byte(tt.body))
			if tt.bad {
				if fe, ok := AsFieldError(err); !ok || fe.Field != "status" {
					t.Fatalf("err = %v, want a FieldError on status", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseRuleStatus = %q, %v", got, err)
			}
		})
	}
}
