package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// PoolStats is a snapshot of an invoker's container pool.
type PoolStats struct {
	// Containers counts the action containers; Busy those running an
	// activation, Paused those paused; StemCells the prewarmed containers.
	Containers, Busy, Paused, StemCells int
	// UsedMB is the memory the pool's containers hold.
	UsedMB int
	// Kinds splits the container counts by runtime kind.
	Kinds map[string]KindStats
}

// KindStats counts one runtime kind's containers in PoolStats.
type KindStats struct {
	Containers, Busy, Paused, StemCells int
}

// poolCollector reads a pool's snapshot at each scrape: nothing on the
// activation path.
type poolCollector struct {
	invoker    string
	stats      func() PoolStats
	containers *prometheus.Desc
	usedMB     *prometheus.Desc
	byKind     *prometheus.Desc
}

// WatchPool exports the pool of the named invoker, read with stats at each
// scrape: wisp_pool_containers{invoker,state} for the warm (idle), busy,
// paused and stem containers, the same by kind in
// wisp_pool_kind_containers{invoker,kind,state}, and
// wisp_pool_memory_bytes.
func (m *Metrics) WatchPool(invoker string, stats func() PoolStats) {
	if m == nil {
		return
	}
	m.reg.MustRegister(&poolCollector{
		invoker: invoker,
		stats:   stats,
		containers: prometheus.NewDesc("wisp_pool_containers", "Containers in the invoker's pool by state: warm (idle, running), busy, paused, stem (prewarmed)",
			[]string{"invoker", "state"}, nil),
		byKind: prometheus.NewDesc("wisp_pool_kind_containers", "Containers in the invoker's pool by runtime kind and state (as wisp_pool_containers)",
			[]string{"invoker", "kind", "state"}, nil),
		usedMB: prometheus.NewDesc("wisp_pool_memory_bytes", "Memory held by the invoker's containers", []string{"invoker"}, nil),
	})
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.containers
	ch <- c.usedMB
	ch <- c.byKind
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.stats()
	warm := st.Containers - st.Busy - st.Paused
	for state, n := range map[string]int{"warm": warm, "busy": st.Busy, "paused": st.Paused, "stem": st.StemCells} {
		ch <- prometheus.MustNewConstMetric(c.containers, prometheus.GaugeValue, float64(n), c.invoker, state)
	}
	ch <- prometheus.MustNewConstMetric(c.usedMB, prometheus.GaugeValue, float64(int64(st.UsedMB)<<20), c.invoker)
	for kind, k := range st.Kinds {
		for state, n := range map[string]int{"warm": k.Containers - k.Busy - k.Paused, "busy": k.Busy, "paused": k.Paused, "stem": k.StemCells} {
			ch <- prometheus.MustNewConstMetric(c.byKind, prometheus.GaugeValue, float64(n), c.invoker, kind, state)
		}
	}
}
