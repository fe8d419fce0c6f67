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
}

// poolCollector reads a pool's snapshot at each scrape: nothing on the
// activation path.
type poolCollector struct {
	invoker    string
	stats      func() PoolStats
	containers *prometheus.Desc
	usedMB     *prometheus.Desc
}

// WatchPool exports the pool of the named invoker, read with stats at each
// scrape: wisp_pool_containers{invoker,state} for the warm (idle), busy,
// paused and stem containers, and wisp_pool_memory_bytes.
func (m *Metrics) WatchPool(invoker string, stats func() PoolStats) {
	if m == nil {
		return
	}
	m.reg.MustRegister(&poolCollector{
		invoker: invoker,
		stats:   stats,
		containers: prometheus.NewDesc("wisp_pool_containers", "Containers in the invoker's pool by state: warm (idle, running), busy, paused, stem (prewarmed)",
			[]string{"invoker", "state"}, nil),
		usedMB: prometheus.NewDesc("wisp_pool_memory_bytes", "Memory held by the invoker's containers", []string{"invoker"}, nil),
	})
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.containers
	ch <- c.usedMB
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.stats()
	warm := st.Containers - st.Busy - st.Paused
	for state, n := range map[string]int{"warm": warm, "busy": st.Busy, "paused": st.Paused, "stem": st.StemCells} {
		ch <- prometheus.MustNewConstMetric(c.containers, prometheus.GaugeValue, float64(n), c.invoker, state)
	}
	ch <- prometheus.MustNewConstMetric(c.usedMB, prometheus.GaugeValue, float64(int64(st.UsedMB)<<20), c.invoker)
}
