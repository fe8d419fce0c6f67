package server

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/metrics"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/store/bolt"
)

// Each timed store call is one sample of its operation; a record not
// found or a conflict is ok, a failure (a closed store) an error.
func TestStoreLatencyPerOperation(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "wisp.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	ts := timedStore{Store: st, metrics: m}
	ctx := context.Background()
	doc := json.RawMessage(`{"name":"a"}`)
	if _, err := ts.Put(ctx, store.Record{Namespace: "ns", Collection: store.Actions, Name: "a", Doc: doc}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Put(ctx, store.Record{Namespace: "ns", Collection: store.Actions, Name: "a", Doc: doc}); err == nil {
		t.Fatal("a second create was taken")
	}
	for _, name := range []string{"a", "missing"} {
		_, _ = ts.Get(ctx, "ns", store.Actions, name)
	}
	if _, err := ts.List(ctx, "ns", store.Actions, store.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Count(ctx, "ns", store.Actions, ""); err != nil {
		t.Fatal(err)
	}
	act := &entity.Activation{Namespace: "ns", Name: "a", ActivationID: "0123456789abcdef0123456789abcdef", Start: 1, End: 2}
	if err := ts.PutActivations(ctx, []*entity.Activation{act}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.GetActivation(ctx, "ns", act.ActivationID); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.ListActivations(ctx, "ns", store.ActivationFilter{}); err != nil {
		t.Fatal(err)
	}
	if err := ts.Delete(ctx, "ns", store.Actions, "a", ""); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Get(ctx, "ns", store.Actions, "a"); err == nil {
		t.Fatal("a get on a closed store answered")
	}

	srv := newMetricsServer(t, m)
	got := scrape(t, srv)
	for _, tt := range []struct {
		op, result string
		want       float64
	}{
		{metrics.StorePut, "ok", 2}, // the conflict is ok
		{metrics.StoreGet, "ok", 2}, // the absent record too
		{metrics.StoreGet, "error", 1},
		{metrics.StoreList, "ok", 1},
		{metrics.StoreCount, "ok", 1},
		{metrics.StorePutActivations, "ok", 1},
		{metrics.StoreGetActivation, "ok", 1},
		{metrics.StoreListActivations, "ok", 1},
		{metrics.StoreDelete, "ok", 1},
	} {
		s := series("wisp_store_seconds_count", "op="+tt.op, "result="+tt.result)
		if got[s] != tt.want {
			t.Errorf("%s = %v, want %v", s, got[s], tt.want)
		}
	}
}

// newMetricsServer serves m's GET /metrics and returns its address.
func newMetricsServer(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}
