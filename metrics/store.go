package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Store operations timed in wisp_store_seconds{op}: a bounded set.
const (
	StoreGet             = "get"
	StorePut             = "put"
	StoreDelete          = "delete"
	StoreList            = "list"
	StoreCount           = "count"
	StorePutActivations  = "put_activations"
	StoreGetActivation   = "get_activation"
	StoreListActivations = "list_activations"
)

func newStoreLatency(reg *prometheus.Registry) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "wisp_store_seconds",
		Help:    "Time the store (bolt or CouchDB, below the write-behind buffer) took per operation, by operation and result (ok, error; a record not found or a conflict is ok)",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"op", "result"})
	reg.MustRegister(h)
	return h
}

// ObserveStore records one store operation op (StoreGet...) that took d;
// failed is true when it failed for a reason other than the record's
// absence or a conflict.
func (m *Metrics) ObserveStore(op string, d time.Duration, failed bool) {
	if m == nil {
		return
	}
	result := "ok"
	if failed {
		result = "error"
	}
	m.store.WithLabelValues(op, result).Observe(d.Seconds())
}
