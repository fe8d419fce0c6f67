// Package api is Wisp's HTTP surface: the OpenWhisk REST API under /api/v1
// (namespaces, actions, activations), Basic authentication with uuid:key,
// OpenWhisk's error body {"error", "code"} on every failure, and web actions
// under /api/v1/web (anonymous HTTP to actions annotated web-export; web.go).
//
// Handlers decode, call one method of the store or the routing controller,
// and encode; they hold no business logic. Errors are mapped to HTTP status
// in one place (errors.go). Main type: Server.
package api
