// Command bench is Wisp's whole-system benchmark harness. It starts a real
// single-process Wisp (process backend) on loopback, warms an action, and
// measures each hot path against its direct counterpart in the same run:
// a warm blocking invoke through the REST API against a POST /run straight
// to the same warm action proxy. It prints median, p90 and p99 of both and
// their ratio and difference.
//
// With -feeds it measures instead feed event → action start (MQTT publish,
// CouchDB write) against the broker's or database's own delivery of the
// same events, and against a bridge that hands each event straight to the
// action's warm container; see feeds.go for the method.
//
// With -invokers it measures how a cluster scales: blocking invokes per
// second of a sleeping action from 64 callers through one controller with 1
// and with 3 invokers, each node a `wisp serve` process of its own, with
// each invoker's capacity below the callers; see invokers.go.
//
// Run it with `make bench` (also runs the Go benchmarks) or
// `go run ./bench -n 2000`.
package main
