// Package health serves the probes of a Wisp process: GET /healthz answers
// 200 "ok" while the process serves HTTP at all, and GET /readyz runs the
// process's readiness checks (store, bus, Docker engine, feeds) and answers
// 503 naming each that failed and why. It knows no part of Wisp: the server
// registers one named Check per part it runs. The main type is Checker.
package health
