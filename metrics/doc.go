// Package metrics owns a Wisp process's Prometheus registry and serves it
// at GET /metrics. It records OpenWhisk's user metrics (the names and
// labels of openwhisk user-events, so its Grafana dashboards work) from
// each activation record the invoker writes, and Wisp's own gauges (the
// container pool) read at scrape time. Labels are bounded: namespace,
// action, initiator, kind, memory, status; never an activation id. The
// main type is Metrics, made with New and passed to the parts it watches;
// a nil *Metrics records nothing. The same calls feed Recent, a bounded
// per-namespace, per-minute ring of the last hour behind the authenticated
// GET /api/v1/namespaces/{ns}/metrics (NamespaceView), which the processes
// of a cluster share (TakeRecent, MergeRecent).
package metrics
