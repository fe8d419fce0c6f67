package eventfilter

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/wispio/wisp/entity"
)

func compiler(t testing.TB) *Compiler {
	t.Helper()
	c, err := NewCompiler()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func params(t testing.TB, obj string) entity.Params {
	t.Helper()
	p, err := entity.ParamsFromObject("params", []byte(obj))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var mqttEvent = &entity.EventAttributes{
	ID: "42", Source: "mqtt://broker/sensors", Type: "wisp.mqtt.message", Subject: "sensors/kitchen/temp",
	Extensions: map[string]string{"qos": "1"},
}

func TestMatch(t *testing.T) {
	c := compiler(t)
	in := NewInput(params(t, `{"temp": 31.5, "room": "kitchen", "tags": ["a", "b"], "n": 3, "deep": {"x": {"y": "z"}}}`), mqttEvent)
	for _, tc := range []struct {
		name, filter string
		want         bool
		wantErr      string
	}{
		{"cel number", `"params.temp > 30"`, true, ""},
		{"cel int vs double", `"params.n == 3"`, true, ""},
		{"cel false", `"params.temp > 40"`, false, ""},
		{"cel event", `"event.subject.startsWith('sensors/') && event.type == 'wisp.mqtt.message'"`, true, ""},
		{"cel extension", `"event.qos == '1'"`, true, ""},
		{"cel list", `"'b' in params.tags"`, true, ""},
		{"cel missing field", `"params.humidity > 3"`, false, "no such key: humidity"},
		{"cel missing attribute", `"event.time == ''"`, false, "no such key: time"},
		{"cel has", `"has(params.humidity) && params.humidity > 3"`, false, ""},
		{"cel dyn not bool", `"params.room"`, false, "did not yield a boolean"},
		{"exact event", `{"exact": {"type": "wisp.mqtt.message"}}`, true, ""},
		{"exact explicit event", `{"exact": {"event.source": "mqtt://broker/sensors"}}`, true, ""},
		{"exact params number", `{"exact": {"params.n": 3}}`, true, ""},
		{"exact params nested", `{"exact": {"params.deep.x.y": "z"}}`, true, ""},
		{"exact nested through a scalar", `{"exact": {"params.room.x": "z"}}`, false, ""},
		{"exact two keys, one wrong", `{"exact": {"type": "wisp.mqtt.message", "params.room": "hall"}}`, false, ""},
		{"exact missing is no match", `{"exact": {"params.humidity": 3}}`, false, ""},
		{"exact missing attribute", `{"exact": {"time": "x"}}`, false, ""},
		{"prefix", `{"prefix": {"subject": "sensors/kitchen/"}}`, true, ""},
		{"prefix not string", `{"prefix": {"params.n": "3"}}`, false, ""},
		{"suffix", `{"suffix": {"subject": "/temp"}}`, true, ""},
		{"suffix wrong", `{"suffix": {"subject": "/hum"}}`, false, ""},
		{"all", `{"all": [{"exact": {"params.room": "kitchen"}}, {"cel": "params.temp > 30"}]}`, true, ""},
		{"any", `{"any": [{"exact": {"params.room": "hall"}}, {"suffix": {"subject": "temp"}}]}`, true, ""},
		{"any none", `{"any": [{"exact": {"params.room": "hall"}}, {"suffix": {"subject": "hum"}}]}`, false, ""},
		{"not", `{"not": {"exact": {"params.room": "hall"}}}`, true, ""},
		{"two operators are and", `{"exact": {"params.room": "kitchen"}, "prefix": {"subject": "x"}}`, false, ""},
		{"key needing quotes", `{"exact": {"params.a\"b": 1}}`, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := c.Compile(json.RawMessage(tc.filter))
			if err != nil {
				t.Fatalf("Compile(%s): %v", tc.filter, err)
			}
			got, err := f.Match(context.Background(), in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Match(%s) = %v, %v; want error containing %q", f.CEL(), got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Match(%s) = %v, %v; want %v", f.CEL(), got, err, tc.want)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	c := compiler(t)
	for _, tc := range []struct {
		name, filter string
		want         string // the FieldError's text
	}{
		{"syntax", `"params.temp >"`, "filter: line 1, column 14: Syntax error"},
		{"undeclared", `"foo > 3"`, "filter: line 1, column 1: undeclared reference to 'foo'"},
		{"second line", `"params.a == 1 &&\n bar"`, "filter: line 2, column 2: undeclared reference to 'bar'"},
		{"not boolean", `"1 + 2"`, `filter: must be a boolean expression; "1 + 2" is of type int`},
		{"number", `42`, "filter: must be a CEL expression (a string) or a shorthand object"},
		{"array", `["x"]`, "filter: must be a CEL expression"},
		{"too long", `"` + strings.Repeat("a", MaxSource+1) + `"`, "more than the limit of 4096"},
		{"empty object", `{}`, "filter: is empty"},
		{"unknown operator", `{"exakt": {"type": "x"}}`, `filter.exakt: unknown operator "exakt"`},
		{"exact not object", `{"exact": "x"}`, "filter.exact: must be an object of attribute: value"},
		{"exact empty", `{"exact": {}}`, "filter.exact: must name at least one attribute"},
		{"exact object value", `{"exact": {"params.a": {"b": 1}}}`, "filter.exact.params.a: must be a string, a number, a boolean or null"},
		{"prefix number", `{"prefix": {"subject": 3}}`, "filter.prefix.subject: the prefix of a value must be a string"},
		{"empty segment", `{"exact": {"params..a": 1}}`, "filter.exact.params..a: has an empty path segment"},
		{"all not array", `{"all": {"exact": {"type": "x"}}}`, "filter.all: must be an array of filters"},
		{"any empty", `{"any": []}`, "filter.any: must hold at least one filter"},
		{"nested error names its place", `{"all": [{"exact": {"type": "x"}}, {"not": {"suffix": {}}}]}`, "filter.all[1].not.suffix: must name at least one attribute"},
		{"cel not string", `{"cel": 3}`, "filter.cel: must be a non-empty string"},
		{"cel in shorthand bad", `{"cel": "params.a >"}`, "filter: line 1, column"},
		{"too deep", strings.Repeat(`{"not": `, 20) + `{"exact": {"type": "x"}}` + strings.Repeat(`}`, 20), "nests deeper than 16 levels"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := c.Compile(json.RawMessage(tc.filter))
			if err == nil {
				t.Fatalf("Compile(%s) = %q, want an error", tc.filter, f.CEL())
			}
			fe, ok := entity.AsFieldError(err)
			if !ok || !strings.HasPrefix(fe.Field, Field) {
				t.Fatalf("Compile(%s) error %v is not a field error on filter", tc.filter, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Compile(%s) error\n  %v\nwant it to contain\n  %s", tc.filter, err, tc.want)
			}
		})
	}
}

func TestNoFilter(t *testing.T) {
	c := compiler(t)
	for _, raw := range []string{"", "null", `""`, `"  "`} {
		f, err := c.Compile(json.RawMessage(raw))
		if f != nil || err != nil {
			t.Errorf("Compile(%q) = %v, %v; want no filter", raw, f, err)
		}
	}
}

// TestCostLimit: an expression whose evaluation is quadratic in a list the
// event carries stops at the cost limit instead of running on.
func TestCostLimit(t *testing.T) {
	c := compiler(t)
	f, err := c.Compile(json.RawMessage(`"params.xs.all(a, params.xs.all(b, a + b >= 0))"`))
	if err != nil {
		t.Fatal(err)
	}
	xs := make([]string, 2000)
	for i := range xs {
		xs[i] = "1"
	}
	in := NewInput(params(t, `{"xs": [`+strings.Join(xs, ",")+`]}`), nil)
	if ok, err := f.Match(context.Background(), in); err == nil || !strings.Contains(err.Error(), "cost limit exceeded") {
		t.Fatalf("Match = %v, %v; want the cost limit exceeded", ok, err)
	}
	small := NewInput(params(t, `{"xs": [1, 2, 3]}`), nil)
	if ok, err := f.Match(context.Background(), small); err != nil || !ok {
		t.Fatalf("Match on 3 elements = %v, %v; want true", ok, err)
	}
}

// TestGuard: the guard found for a filter, and that a filter never passes
// an input its guard fails on (so that skipping it is safe).
func TestGuard(t *testing.T) {
	c := compiler(t)
	for _, tc := range []struct{ filter, want string }{
		{`"event.type == 'x'"`, "event type x"},
		{`"'x' == event.type"`, "event type x"},
		{`"params.temp > 3 && params.device == 'd1'"`, "params device d1"},
		{`"params.a.b == 2 && event.subject == 's'"`, "event subject s"},
		{`"params['a']['b'] == 2"`, "params a.b 2"},
		{`"params.n == 3"`, "params n 3"},
		{`"params.ok == true"`, "params ok true"},
		{`{"exact": {"type": "t", "params.device": "d1"}}`, "event type t"},
		{`{"all": [{"prefix": {"subject": "a"}}, {"exact": {"params.k": 1}}]}`, "params k 1"},
		{`"params.temp > 3"`, ""},
		{`"event.type == 'x' || event.type == 'y'"`, ""},
		{`"!(event.type == 'x')"`, ""},
		{`{"any": [{"exact": {"type": "t"}}]}`, "event type t"},
		{`{"any": [{"exact": {"type": "t"}}, {"exact": {"type": "u"}}]}`, ""},
		{`"params.a == params.b"`, ""},
	} {
		f, err := c.Compile(json.RawMessage(tc.filter))
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if g := f.Guard(); g != nil {
			got = fmt.Sprintf("%s %s %v", g.Root, strings.Join(g.Path, "."), g.Value)
		}
		if got != tc.want {
			t.Errorf("guard of %s = %q, want %q", tc.filter, got, tc.want)
		}
	}
	// Over many inputs, a filter whose guard fails never matches.
	inputs := []*Input{
		NewInput(params(t, `{"device": "d1", "temp": 5, "n": 3, "ok": true, "a": {"b": 2}, "k": 1}`), &entity.EventAttributes{Type: "x", Subject: "s"}),
		NewInput(params(t, `{"device": "d2", "n": "3", "ok": "true", "a": {"b": "2"}, "k": [1]}`), &entity.EventAttributes{Type: "t", Subject: "sx"}),
		NewInput(params(t, `{"a": 2}`), nil),
	}
	for _, tc := range []string{`"event.type == 'x'"`, `"params.n == 3 && params.temp > 1"`, `"params.ok == true"`, `"params['a']['b'] == 2"`, `{"exact": {"type": "t", "params.device": "d2"}}`, `{"exact": {"params.k": 1}}`} {
		f, _ := c.Compile(json.RawMessage(tc))
		g := f.Guard()
		for i, in := range inputs {
			v, ok := in.Lookup(g.Root, g.Path)
			key, comparable := Key(v)
			met := ok && comparable && key == g.Value
			if got, _ := f.Match(context.Background(), in); got && !met {
				t.Errorf("%s matched input %d although its guard fails", tc, i)
			}
		}
	}
}
