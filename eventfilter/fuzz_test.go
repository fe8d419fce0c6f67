package eventfilter

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/wispio/wisp/entity"
)

// FuzzCompile: any rule filter a tenant sends compiles or is refused with
// a field error, and a compiled one evaluates without panicking.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		`"params.temp > 30"`, `"event.type == 'x' && params.a.b == 1"`, `{"exact": {"type": "t"}}`,
		`{"all": [{"prefix": {"subject": "a"}}, {"not": {"suffix": {"params.x": "y"}}}]}`,
		`{"any": [{"cel": "params.xs.all(x, x > 0)"}]}`, `"params.s.matches('a+b')"`, `{"exact": {"params.n": 1e400}}`,
	} {
		f.Add(s)
	}
	c, err := NewCompiler()
	if err != nil {
		f.Fatal(err)
	}
	in := NewInput(params(f, `{"temp": 31, "a": {"b": 1}, "xs": [1, 2], "s": "aab", "x": "zy", "n": 1}`), mqttEvent)
	f.Fuzz(func(t *testing.T, raw string) {
		flt, err := c.Compile(json.RawMessage(raw))
		if err != nil {
			if fe, ok := entity.AsFieldError(err); !ok || !strings.HasPrefix(fe.Field, Field) {
				t.Fatalf("Compile(%q): %v is not a field error on filter", raw, err)
			}
			return
		}
		if flt != nil {
			_, _ = flt.Match(context.Background(), in)
		}
	})
}
