// Package throttle enforces OpenWhisk's three per-namespace limits:
// invocations per minute, concurrent invocations (activations in flight)
// and trigger fires per minute. A Throttle answers CheckInvoke and
// CheckFire with an *Error carrying OpenWhisk's message when a namespace is
// over a limit, and counts in-flight activations through Started and
// Finished. It does not decide where the checks happen (routing does) nor
// how a refusal is answered (the API answers 429).
//
// The counters live in one process. In a cluster (Share) every node that
// checks (controllers, feeds nodes) reports its counts to the others a few
// times a second and adds theirs to its own, so that a limit holds for the
// whole cluster within a small overshoot (see Report); the transport is
// the server's.
package throttle
