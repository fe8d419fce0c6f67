package eventfilter

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
)

// TestNativeAgreesWithCEL: for every expression and input, the native
// path (when it applies) and the CEL program give the same match and the
// same error-ness; the expressions the native path is for do use it.
func TestNativeAgreesWithCEL(t *testing.T) {
	c := compiler(t)
	inputs := []string{
		`{"temp": 31.5, "n": 3, "deep": {"v": -2}}`,
		`{"temp": 30, "n": 3.0}`,
		`{"temp": 29.9, "n": 4}`,
		`{"temp": "hot", "n": 3}`, // not a number: CEL decides
		`{"n": 3}`,                // missing: CEL's error
		`{"temp": null}`,
		`{"temp": true}`,
		`{"temp": 1e300, "n": -0.0}`,
	}
	for _, tt := range []struct {
		expr   string
		native bool
	}{
		{"params.temp > 30", true},
		{"params.temp >= 30", true},
		{"params.temp < 30", true},
		{"params.temp <= 30.0", true},
		{"params.temp == 30", true},
		{"params.temp != 30", true},
		{"30 < params.temp", true},
		{"30u <= params.temp", true},
		{"params.temp > 30 && params.n == 3", true},
		{"params.n == 3 && params.temp > 30", true},
		{"params.deep.v < -1 && params['n'] > 2", true},
		{"params.temp > 9007199254740993", false},
		{"params.temp > 30 || params.n == 3", false},
		{"params.temp > params.n", false},
		{"has(params.temp) && params.temp > 30", false},
		{"event.type == 'x'", false},
	} {
		f, err := c.CompileCEL(tt.expr)
		if err != nil {
			t.Fatalf("%s: %v", tt.expr, err)
		}
		if got := f.native != nil; got != tt.native {
			t.Errorf("%s: native path %v, want %v", tt.expr, got, tt.native)
		}
		for _, raw := range inputs {
			in := NewInput(params(t, raw), mqttEvent)
			got, gotErr := f.Match(context.Background(), in)
			want, wantErr := f.eval(in)
			if got != want || (gotErr == nil) != (wantErr == nil) {
				t.Errorf("%s on %s: Match = %v, %v; CEL = %v, %v", tt.expr, raw, got, gotErr, want, wantErr)
			}
		}
	}
}

// BenchmarkMatchNative compares the native path with the CEL program on
// one comparison.
func BenchmarkMatchNative(b *testing.B) {
	c := compiler(b)
	in := NewInput(params(b, `{"temp": 31.5, "room": "kitchen", "n": 3}`), mqttEvent)
	f, err := c.Compile(json.RawMessage(`"params.temp > 30 && params.n == 3"`))
	if err != nil {
		b.Fatal(err)
	}
	for _, path := range []string{"native", "cel"} {
		b.Run(path, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if path == "native" {
					_, err = f.Match(context.Background(), in)
				} else {
					_, err = f.eval(in)
				}
				if err != nil {
					b.Fatal(fmt.Errorf("%s: %w", path, err))
				}
			}
		})
	}
}
