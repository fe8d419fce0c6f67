package routing

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/wispio/wisp/entity"
)

// discardPublisher takes messages and drops them.
type discardPublisher struct{ n int }

func (p *discardPublisher) Publish(string, ...*message.Message) error { p.n++; return nil }
func (p *discardPublisher) Close() error                              { return nil }

// filteredFanOut indexes trigger ns/T with n rules: rule 0 passes the
// benchmark's event, the others have filters that do not (half CEL, half
// shorthand, on params and on the event).
func filteredFanOut(b *testing.B, n int, guarded bool) (*RuleIndex, FireRequest) {
	b.Helper()
	x := NewRuleIndex()
	tr := &entity.Trigger{Namespace: "ns", Name: "T"}
	for i := range n {
		var filter string
		switch {
		case i == 0:
			filter = `"params.device == 'd0' && event.type == 'com.example.reading'"`
		case !guarded:
			filter = fmt.Sprintf(`"params.temp > %d.0"`, 30+i)
		case i%2 == 0:
			filter = fmt.Sprintf(`"params.device == 'd%d' && params.temp > 30.0"`, i)
		default:
			filter = fmt.Sprintf(`{"exact": {"subject": "sensors/d%d"}}`, i)
		}
		rule := fqn("ns", fmt.Sprintf("r%04d", i))
		tr = tr.WithRule(rule, fqn("ns", "a"), entity.StatusActive).WithRuleFilter(rule, json.RawMessage(filter))
	}
	x.Put(tr)
	if e, _ := x.Lookup(tr.FQN()); e.Filtered != n {
		b.Fatalf("%d filtered rules indexed, want %d", e.Filtered, n)
	}
	p, _ := entity.ParamsFromObject("p", []byte(`{"device": "d0", "temp": 21.5, "unit": "C"}`))
	return x, FireRequest{Trigger: tr.FQN(), Subject: "ns", Payload: p,
		Event: &entity.EventAttributes{ID: "1", Source: "urn:s", Type: "com.example.reading", Subject: "sensors/d0"}}
}

// BenchmarkFilteredFanOut is the accept path of a fire of a trigger with
// 1, 100 and 1,000 filtered rules of which one passes: the filters decided
// (once per fire) and the fire queued. "guarded" filters hold an equality
// (params.device == 'd7', {"exact": {"subject": …}}), which the index
// looks up instead of evaluating; "unguarded" ones (params.temp > 31.0)
// are each evaluated. Compare it with one warm invoke (bench's
// BenchmarkWarmInvoke).
func BenchmarkFilteredFanOut(b *testing.B) {
	for _, bc := range []struct {
		n       int
		guarded bool
	}{{1, true}, {100, true}, {1000, true}, {1000, false}} {
		name := fmt.Sprintf("rules=%d/guarded", bc.n)
		if !bc.guarded {
			name = fmt.Sprintf("rules=%d/unguarded", bc.n)
		}
		n := bc.n
		b.Run(name, func(b *testing.B) {
			x, req := filteredFanOut(b, n, bc.guarded)
			f := &Firer{index: x, activator: &Activator{ctrl: &Controller{}}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			pub := &discardPublisher{}
			f.Queue(pub)
			ctx := b.Context()
			b.ReportAllocs()
			for b.Loop() {
				res, err := f.Fire(ctx, req)
				if err != nil || res == nil {
					b.Fatal(err)
				}
			}
			if pub.n == 0 {
				b.Fatal("nothing queued")
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/rule")
		})
	}
}

// marshalSink encodes each activation as a store would and keeps the
// size of the last.
type marshalSink struct{ size int }

func (s *marshalSink) PutActivations(_ context.Context, acts []*entity.Activation) error {
	for _, a := range acts {
		b, err := json.Marshal(a)
		if err != nil {
			return err
		}
		s.size = len(b)
	}
	return nil
}

// BenchmarkFilteredOut is a fire of a trigger with 1 and 1,000 filtered
// rules none of which passes: the filters decided and the trigger
// activation written (encoded as the store does; record-bytes is its
// size).
func BenchmarkFilteredOut(b *testing.B) {
	for _, n := range []int{1, 1000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			x, req := filteredFanOut(b, n, true)
			req.Payload, _ = entity.ParamsFromObject("p", []byte(`{"device": "nobody", "temp": 40}`))
			sink := &marshalSink{}
			f := &Firer{index: x, activator: &Activator{ctrl: &Controller{}}, sink: sink, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			f.Queue(&discardPublisher{})
			ctx := b.Context()
			b.ReportAllocs()
			for b.Loop() {
				res, err := f.Fire(ctx, req)
				if err != nil || res == nil || res.Activation == nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(sink.size), "record-bytes")
		})
	}
}
