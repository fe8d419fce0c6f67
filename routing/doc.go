// Package routing moves invocations between Wisp's roles over the bus
// (watermill): the message schemas and topics, the controller side that
// publishes an invocation to an invoker and waits for its completion when the
// call is blocking, and the choice of invoker.
//
// It does not run actions (package invoker does) nor speak HTTP (package
// api). Main type: Controller.
package routing
