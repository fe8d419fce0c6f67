package bolt_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/store/bolt"
)

// storedActivations is how many activations the activation benchmarks
// start with.
const storedActivations = 100_000

// benchActions is how many actions the activations are spread over.
const benchActions = 50

// activationFactory makes realistic activation records with rising starts.
type activationFactory struct{ start int64 }

func (f *activationFactory) next(i int) *entity.Activation {
	f.start++
	return &entity.Activation{
		ActivationID: entity.NewActivationID(),
		Namespace:    "guest",
		Name:         fmt.Sprintf("pkg/action%d", i%benchActions),
		Version:      "0.0.1",
		Subject:      "guest",
		Start:        f.start,
		End:          f.start + 12,
		Duration:     12,
		Response:     entity.NewResponse(entity.StatusSuccess, json.RawMessage(`{"greeting":"Hello, world","count":42}`)),
		Logs:         []string{"2025-01-01T00:00:00.000Z stdout: handling request", "2025-01-01T00:00:00.010Z stdout: done"},
		Annotations: entity.Params{
			{Key: "path", Value: json.RawMessage(`"guest/pkg/action"`)},
			{Key: "kind", Value: json.RawMessage(`"nodejs:20"`)},
			{Key: "limits", Value: json.RawMessage(`{"timeout":60000,"memory":256,"logs":10}`)},
			{Key: "waitTime", Value: json.RawMessage(`3`)},
		},
	}
}

// filledStore returns the path of a store holding storedActivations
// activations, closed, and the factory that made them.
func filledStore(b *testing.B) (string, *activationFactory) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "wisp.db")
	s := open(b, path)
	f := &activationFactory{start: 1_700_000_000_000}
	batch := make([]*entity.Activation, 1000)
	for n := 0; n < storedActivations; n += len(batch) {
		for i := range batch {
			batch[i] = f.next(n + i)
		}
		if err := s.PutActivations(b.Context(), batch); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	return path, f
}

func BenchmarkGet(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "wisp.db"))
	defer s.Close()
	doc := json.RawMessage(`{"exec":{"kind":"nodejs:20","code":"function main(p){return {greeting:'Hello, '+p.name}}"},` +
		`"limits":{"timeout":60000,"memory":256,"logs":10},"parameters":[],"annotations":[{"key":"web-export","value":true}]}`)
	for ns := range 10 {
		for a := range 100 {
			rec := store.Record{Namespace: fmt.Sprintf("ns%d", ns), Collection: store.Actions, Name: fmt.Sprintf("pkg/action%d", a), Doc: doc}
			if _, err := s.Put(b.Context(), rec); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("Serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Get(b.Context(), "ns5", store.Actions, "pkg/action50"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.Get(b.Context(), "ns5", store.Actions, "pkg/action50"); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func BenchmarkPutActivations(b *testing.B) {
	path, f := filledStore(b)
	for _, sync := range []bool{true, false} {
		s, err := bolt.Open(path, bolt.Options{NoSync: !sync})
		if err != nil {
			b.Fatal(err)
		}
		for _, size := range []int{1, 64} {
			b.Run(fmt.Sprintf("batch=%d/fsync=%v", size, sync), func(b *testing.B) {
				b.ReportAllocs()
				batch := make([]*entity.Activation, size)
				n := 0
				for b.Loop() {
					for i := range batch {
						batch[i] = f.next(n)
						n++
					}
					if err := s.PutActivations(b.Context(), batch); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/activation")
			})
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkListActivations(b *testing.B) {
	path, _ := filledStore(b)
	s := open(b, path)
	defer s.Close()
	const newest = 1_700_000_000_000 + storedActivations
	filters := []struct {
		name string
		f    store.ActivationFilter
	}{
		{"Newest", store.ActivationFilter{Limit: 30}},
		{"Name", store.ActivationFilter{Name: "pkg/action7", Limit: 30}},
		{"SinceUpto", store.ActivationFilter{Since: newest - 60_000, Upto: newest - 50_000, Limit: 30}},
		{"Skip1000", store.ActivationFilter{Skip: 1000, Limit: 30}},
	}
	for _, tt := range filters {
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				acts, err := s.ListActivations(b.Context(), "guest", tt.f)
				if err != nil || len(acts) != 30 {
					b.Fatalf("%d activations, %v", len(acts), err)
				}
			}
		})
	}
	b.Run("GetActivation", func(b *testing.B) {
		acts, err := s.ListActivations(b.Context(), "guest", store.ActivationFilter{Skip: storedActivations / 2, Limit: 1})
		if err != nil || len(acts) != 1 {
			b.Fatal(acts, err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.GetActivation(b.Context(), "guest", acts[0].ActivationID); err != nil {
				b.Fatal(err)
			}
		}
	})
}
