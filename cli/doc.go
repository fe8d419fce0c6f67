// Package cli is Wisp's wsk-compatible command line: "wisp property",
// "wisp action", "wisp activation" and "wisp namespace", built on cobra and
// speaking to the server through package client.
//
// It reads ~/.wskprops (or $WSK_CONFIG_FILE) like wsk, so both CLIs share one
// setup, and prints what wsk prints. It does not run a server: cmd/wisp adds
// "serve" and "admin" to the root that NewRoot returns.
package cli
