package feeds

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// fakeParams is the fake provider's declaration.
var fakeParams = Params{
	{Name: "topic", Type: TypeString, Required: true, Doc: "The topic."},
	{Name: "url", Type: TypeURL, Doc: "The broker."},
	{Name: "plainURL", Type: TypeURL, Doc: "A URL."},
	{Name: "password", Type: TypeString, Secret: true, Doc: "The password."},
	{Name: "accessToken", Type: TypeString, Secret: true, Doc: "A token."},
}

func (p *fakeProvider) Params(string) Params { return fakeParams }

func TestParamsValidate(t *testing.T) {
	decl := Params{
		{Name: "topic", Type: TypeString, Required: true},
		{Name: "qos", Type: TypeInteger, Default: 1},
		{Name: "ratio", Type: TypeNumber},
		{Name: "retain", Type: TypeBoolean},
		{Name: "doc", Type: TypeObject},
		{Name: "events", Type: TypeArray},
		{Name: "date", Type: TypeDate},
	}
	tests := []struct {
		params string
		want   string // "" = valid
	}{
		{`{"topic":"a"}`, ""},
		{`{"topic":"a","qos":2,"ratio":"0.5","retain":"true","doc":{"a":1},"events":["x"],"date":1700000000000}`, ""},
		{`{"topic":5}`, ""}, // a number is a string in its JSON form; the connector may refuse it
		{`{"topic":"a","qos":"2","retain":false,"doc":"{\"a\":1}","events":"push,pull","date":"2030-01-01T00:00:00Z"}`, ""},
		{`{"topic":"a","unknown":[1]}`, ""}, // undeclared: the connector's business
		{`{}`, "topic: required"},
		{`{"topic":null}`, "topic: required"},
		{`{"topic":""}`, "topic: required"},
		{`{"topic":{}}`, "topic: must be a string"},
		{`{"topic":"a","qos":1.5}`, "qos: must be an integer"},
		{`{"topic":"a","qos":"x"}`, "qos: must be an integer"},
		{`{"topic":"a","ratio":"half"}`, "ratio: must be a number"},
		{`{"topic":"a","retain":"rules"}`, "retain: must be true or false"},
		{`{"topic":"a","doc":[1]}`, "doc: must be a JSON object"},
		{`{"topic":"a","events":3}`, "events: must be an array"},
		{`{"topic":"a","date":true}`, "date: must be a date"},
	}
	for _, tt := range tests {
		t.Run(tt.params, func(t *testing.T) {
			var params map[string]json.RawMessage
			if err := json.Unmarshal([]byte(tt.params), &params); err != nil {
				t.Fatal(err)
			}
			err := decl.Validate(params)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			var pe *ParamError
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) || !errors.As(err, &pe) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate = %v, want a ParamError starting %q", err, tt.want)
			}
			if pe.Missing != strings.HasSuffix(tt.want, "required") {
				t.Errorf("Missing = %v", pe.Missing)
			}
		})
	}
}

// TestRedactedFollowsTheDeclaration: READ hides what the provider declares
// secret, whatever its name, and what it does not declare; everything when
// it declares nothing.
func TestRedactedFollowsTheDeclaration(t *testing.T) {
	params := map[string]json.RawMessage{"signingKey": json.RawMessage(`"k3y"`), "topic": json.RawMessage(`"a"`), "tokenCount": json.RawMessage(`3`), "note": json.RawMessage(`"extra"`)}
	decl := Params{{Name: "signingKey", Secret: true}, {Name: "topic"}, {Name: "tokenCount"}}
	out := Redacted(decl, params)
	if string(out["signingKey"]) != redactedValue || string(out["note"]) != redactedValue || string(out["topic"]) != `"a"` || string(out["tokenCount"]) != `3` {
		t.Errorf("Redacted(declared) = %s", out)
	}
	for k, v := range Redacted(nil, params) {
		if string(v) != redactedValue {
			t.Errorf("Redacted(undeclared)[%s] = %s, want it hidden", k, v)
		}
	}
}

func TestTable(t *testing.T) {
	got := Table(newFakeProvider(), []string{"events"})
	for _, want := range []string{"| Feed | Parameter |", "| events | `topic` | string | yes |  |  | The topic. |", "| events | `password` | string |  |  | yes | The password. |"} {
		if !strings.Contains(got, want) {
			t.Errorf("Table lacks %q:\n%s", want, got)
		}
	}
}

// TestPackagesDescribeDeclaredParameters: a feed action of the catalogue
// carries its provider's declaration.
func TestPackagesDescribeDeclaredParameters(t *testing.T) {
	m, err := New(DefaultConfig(), openStore(t), nil, newFakeProvider())
	if err != nil {
		t.Fatal(err)
	}
	pkgs := m.Packages()
	if len(pkgs) != 1 || len(pkgs[0].Builtins) != 1 {
		t.Fatalf("Packages = %+v", pkgs)
	}
	got := pkgs[0].Builtins[0].Parameters
	if len(got) != len(fakeParams) || got[0].Name != "topic" || !got[0].Required || got[0].Description != "The topic." || got[3].Type != "password" || got[0].Type != "" {
		t.Errorf("Parameters = %+v", got)
	}
}
