package entity

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParamsMerge(t *testing.T) {
	pkg := Params{{Key: "a", Value: json.RawMessage(`1`)}, {Key: "b", Value: json.RawMessage(`1`)}}
	action := Params{{Key: "b", Value: json.RawMessage(`2`)}, {Key: "c", Value: json.RawMessage(`2`)}}
	call := Params{{Key: "c", Value: json.RawMessage(`3`)}}
	got := string(pkg.Merge(action, call).Object())
	if want := `{"a":1,"b":2,"c":3}`; got != want {
		t.Fatalf("merge = %s, want %s", got, want)
	}
	if string(pkg[1].Value) != "1" {
		t.Fatal("Merge changed its receiver")
	}
}

func TestParamsFromObject(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{in: ``, want: `{}`},
		{in: `null`, want: `{}`},
		{in: `{}`, want: `{}`},
		{in: `{"x":1,"y":{"z":[1,2]},"x":2}`, want: `{"x":2,"y":{"z":[1,2]}}`},
		{in: `[1]`, wantErr: "body: must be a JSON object"},
		{in: `"s"`, wantErr: "body: must be a JSON object"},
		{in: `{"x":}`, wantErr: "body.x: malformed JSON value"},
		{in: `{"x":1} {}`, wantErr: "body: trailing data"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := ParamsFromObject("body", []byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := string(p.Object()); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParamsValidate(t *testing.T) {
	tests := []struct {
		p     Params
		field string
	}{
		{Params{{Key: "", Value: json.RawMessage(`1`)}}, "parameters"},
		{Params{{Key: "a", Value: json.RawMessage(`1`)}, {Key: "a", Value: json.RawMessage(`2`)}}, "parameters"},
		{Params{{Key: "a"}}, "parameters.a"},
	}
	for _, tt := range tests {
		err := tt.p.Validate("parameters")
		fe, ok := AsFieldError(err)
		if !ok || fe.Field != tt.field {
			t.Fatalf("Validate(%v) = %v, want field %s", tt.p, err, tt.field)
		}
	}
	if err := (Params{{Key: "a", Value: json.RawMessage(`"x"`)}}).Validate("parameters"); err != nil {
		t.Fatal(err)
	}
}

func TestParamsAccessors(t *testing.T) {
	p := Params{}.Set("s", "v").Set("t", true).Set("s", "w")
	if s, ok := p.GetString("s"); !ok || s != "w" || len(p) != 2 {
		t.Fatalf("GetString = %q %v, %v", s, ok, p)
	}
	if !p.IsTrue("t") || p.IsTrue("s") || p.IsTrue("missing") {
		t.Fatal("IsTrue wrong")
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func FuzzParamsFromObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, `{"a":{"b":[1,"x",null]}}`, `[`, `{"a":1,"a":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParamsFromObject("body", b)
		if err != nil {
			return
		}
		if obj := p.Object(); !json.Valid(obj) {
			t.Fatalf("Object() of %q is not JSON: %s", b, obj)
		}
	})
}
