// Package cluster holds no code outside its tests: they start Wisp as
// separate processes on loopback (controllers, invokers and feeds nodes of
// the wisp binary meeting on the test services' nats-server with
// JetStream, the CouchDB-protocol server as their shared store), SIGKILL
// processes under load and check that nothing accepted is lost or done
// twice: TestClusterLosesNothing, TestClusterFeedsFailover,
// TestClusterSequenceSurvivesController, TestClusterThrottles, and
// TestClusterAcceptance, all of them in one run. They need those services
// (scripts/test.sh starts them).
package cluster
