package entity

import (
	"encoding/json"
	"fmt"
	"strconv"
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

// naiveMerge is the definition Merge must agree with: each later key
// replaces the same key in place, a new key goes at the end.
func naiveMerge(lists ...Params) Params {
	var out Params
	for _, l := range lists {
		for _, kv := range l {
			i := 0
			for i < len(out) && out[i].Key != kv.Key {
				i++
			}
			if i < len(out) {
				out[i] = kv
			} else {
				out = append(out, kv)
			}
		}
	}
	return out
}

// keys makes n params k<from>..k<from+n-1> with the value v.
func keys(from, n int, v string) Params {
	p := make(Params, n)
	for i := range p {
		p[i] = KeyValue{Key: "k" + strconv.Itoa(from+i), Value: json.RawMessage(v)}
	}
	return p
}

func TestParamsMergeAcrossIndex(t *testing.T) {
	tests := []struct {
		name  string
		base  Params
		later []Params
	}{
		{"nothing", nil, nil},
		{"empty lists", Params{}, []Params{{}, nil}},
		{"short", keys(0, 3, `1`), []Params{keys(2, 3, `2`)}},
		{"reaches the index while merging", keys(0, mergeIndexAt-2, `1`), []Params{keys(mergeIndexAt-4, 10, `2`), keys(0, 3, `3`)}},
		{"indexed from the start", keys(0, 100, `1`), []Params{keys(50, 100, `2`), keys(120, 40, `3`)}},
		{"many later lists", nil, []Params{keys(0, 20, `1`), keys(10, 20, `2`), keys(5, 30, `3`), keys(0, 1, `4`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.base.Merge(tt.later...)
			want := naiveMerge(append([]Params{tt.base}, tt.later...)...)
			if string(got.Object()) != string(want.Object()) || len(got) != len(want) {
				t.Fatalf("Merge = %s, want %s", got.Object(), want.Object())
			}
			if (got == nil) != (want == nil) {
				t.Fatalf("Merge nil = %v, want %v", got == nil, want == nil)
			}
		})
	}
}

func TestParamsFromObjectManyKeys(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	const n = 5000
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `"k%d":%d,`, i%(n/2), i)
	}
	b.WriteString(`"last":true}`)
	p, err := ParamsFromObject("body", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != n/2+1 {
		t.Fatalf("%d params, want %d", len(p), n/2+1)
	}
	// A repeated key keeps its first position and takes its last value.
	if p[0].Key != "k0" || string(p[0].Value) != strconv.Itoa(n/2) || p[n/2].Key != "last" {
		t.Fatalf("first %s=%s, last %s", p[0].Key, p[0].Value, p[n/2].Key)
	}
}

// BenchmarkParamsFromObject decodes an object of many keys, as a client may
// send one: linear in the keys (a copy and a scan per key took 9 s and 9.7 GB
// for 20,000 keys, a 300 KB body).
func BenchmarkParamsFromObject(b *testing.B) {
	for _, n := range []int{10, 1000, 20000} {
		var s strings.Builder
		s.WriteString("{")
		for i := 0; i < n; i++ {
			if i > 0 {
				s.WriteString(",")
			}
			fmt.Fprintf(&s, `"key%d":%d`, i, i)
		}
		s.WriteString("}")
		raw := []byte(s.String())
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParamsFromObject("body", raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
