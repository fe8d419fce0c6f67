// Package couch opens kivik clients the way every Wisp part that talks to
// CouchDB needs them: HTTP compression off in both directions (a
// CouchDB-compatible server may buffer a gzipped continuous feed), HTTP
// Basic credentials from the URL or given apart, and errors that say what
// the server answered without repeating a password. It keeps no state.
package couch
