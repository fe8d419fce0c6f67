// Package cluster holds no code outside its test: TestClusterLosesNothing
// starts Wisp as separate processes on loopback (controllers and invokers
// of the wisp binary meeting on the test services' nats-server with
// JetStream, the CouchDB-protocol server as their shared store), kills
// processes under load and checks that every accepted activation has one
// record. It needs those services (scripts/test.sh starts them).
package cluster
