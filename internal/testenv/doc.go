// Package testenv gives tests the outside programs and services they need, one
// helper per service: Node (and NodeClient, which adds the compatibility
// suite's npm openwhisk client) and Python today; Docker, Mosquitto, NATS and
// CouchDB join them as the features that need them land.
//
// A helper that cannot provide its service skips the test locally and fails it
// when WISP_REQUIRE_SERVICES=1 (set by scripts/test.sh, and so by `make test`
// and .ci/run), so that CI never passes by skipping. Require holds that rule;
// every helper goes through it. The package installs and starts nothing:
// scripts/test.sh does that.
package testenv
