// Package client is a small Go client for the OpenWhisk REST API as Wisp
// serves it: actions (get, list, put, delete, invoke), activations (list, get,
// logs, result), namespaces and the unauthenticated API info.
//
// It stands alone: it imports nothing else of Wisp, and its types mirror
// OpenWhisk's entity JSON rather than Wisp's domain model. The main type is
// Client, built with New from a Config; every call takes a context, returns the
// decoded value plus the raw *Response, and reports server errors as *Error.
package client
