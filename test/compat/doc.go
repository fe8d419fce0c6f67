// Package compat is the OpenWhisk compatibility suite: it builds cmd/wisp,
// starts `wisp serve` on a loopback port with a fresh data directory and two
// namespaces (compat and other), and drives it with the official openwhisk npm
// client through the node:test files in js/.
//
// The Go side only starts and stops the server and runs node; the assertions
// about the OpenWhisk contract live in js/*.test.js. See README.md for running
// the JS files by hand against any server.
package compat
