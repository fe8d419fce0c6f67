// Package server assembles Wisp's roles into one running process: it opens
// the store, starts the bus and its router, the invoker with its backend, the
// controller and the HTTP API, and shuts them down in order. cmd/wisp, the
// end-to-end tests and the bench harness all start Wisp through it.
//
// It holds wiring only; each role's logic lives in its own package. Main
// type: Server.
package server
