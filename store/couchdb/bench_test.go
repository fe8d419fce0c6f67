package couchdb

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/internal/testenv"
	"github.com/wispio/wisp/store"
)

var benchDoc = json.RawMessage(`{"exec":{"kind":"nodejs:20","code":"function main(p){return {greeting:'Hello, '+p.name}}"},` +
	`"limits":{"timeout":60000,"memory":256,"logs":10},"parameters":[],"annotations":[{"key":"web-export","value":true}]}`)

func BenchmarkGet(b *testing.B) {
	s := open(b, testenv.CouchDB(b))
	defer s.Close()
	for a := range 100 {
		rec := store.Record{Namespace: "ns", Collection: store.Actions, Name: fmt.Sprintf("pkg/action%d", a), Doc: benchDoc}
		if _, err := s.Put(b.Context(), rec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Get(b.Context(), "ns", store.Actions, "pkg/action50"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPut(b *testing.B) {
	s := open(b, testenv.CouchDB(b))
	defer s.Close()
	rev := ""
	b.ReportAllocs()
	for b.Loop() {
		var err error
		rev, err = s.Put(b.Context(), store.Record{Namespace: "ns", Collection: store.Actions, Name: "pkg/a", Rev: rev, Doc: benchDoc})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPutActivations(b *testing.B) {
	for _, size := range []int{1, 64} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			s := open(b, testenv.CouchDB(b))
			defer s.Close()
			batch := make([]*entity.Activation, size)
			start, n := int64(1_700_000_000_000), 0
			b.ReportAllocs()
			for b.Loop() {
				for i := range batch {
					start++
					batch[i] = benchActivation(start, n)
					n++
				}
				if err := s.PutActivations(b.Context(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/activation")
		})
	}
}

func benchActivation(start int64, i int) *entity.Activation {
	return &entity.Activation{
		ActivationID: entity.NewActivationID(),
		Namespace:    "guest",
		Name:         fmt.Sprintf("pkg/action%d", i%50),
		Version:      "0.0.1",
		Subject:      "guest",
		Start:        start,
		End:          start + 12,
		Duration:     12,
		Response:     entity.NewResponse(entity.StatusSuccess, json.RawMessage(`{"greeting":"Hello, world","count":42}`)),
		Logs:         []string{"2025-01-01T00:00:00.000Z stdout: handling request", "2025-01-01T00:00:00.010Z stdout: done"},
		Annotations: entity.Params{
			{Key: "path", Value: json.RawMessage(`"guest/pkg/action"`)},
			{Key: "kind", Value: json.RawMessage(`"nodejs:20"`)},
		},
	}
}
