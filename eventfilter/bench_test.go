package eventfilter

import (
	"context"
	"encoding/json"
	"testing"
)

// BenchmarkMatch is the cost of one rule's filter on one event (the input
// is built once per fire and shared by its rules; BenchmarkNewInput).
func BenchmarkMatch(b *testing.B) {
	c := compiler(b)
	in := NewInput(params(b, `{"temp": 31.5, "room": "kitchen", "n": 3}`), mqttEvent)
	for _, bc := range []struct{ name, filter string }{
		{"cel-compare", `"params.temp > 30"`},
		{"cel-event-and-params", `"event.type == 'wisp.mqtt.message' && params.room == 'kitchen'"`},
		{"shorthand-exact", `{"exact": {"type": "wisp.mqtt.message"}}`},
		{"shorthand-prefix-nomatch", `{"prefix": {"subject": "other/"}}`},
	} {
		f, err := c.Compile(json.RawMessage(bc.filter))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.Match(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNewInput is the per-fire cost of decoding params for filters.
func BenchmarkNewInput(b *testing.B) {
	p := params(b, `{"temp": 31.5, "room": "kitchen", "n": 3}`)
	b.ReportAllocs()
	for b.Loop() {
		NewInput(p, mqttEvent)
	}
}
