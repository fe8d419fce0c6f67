// Package couchdb is a store.Store on CouchDB (or any server speaking its
// protocol, such as pouchdb-server), through kivik, for Wisp clusters whose
// controllers and invokers share one store.
//
// Layout: three databases, named with a configurable prefix (default
// "wisp_"). <prefix>entities holds one document per entity, id
// "<collection>/<namespace>/<name>" and body {"doc": <the record>}; its
// _rev is the record's revision, so CouchDB's own optimistic concurrency
// does the conflict checks. Lists walk _all_docs over an id range, which
// CouchDB orders by raw code point, as the embedded store orders names.
// Ids start with the collection because a namespace may start with '_',
// which CouchDB reserves. A deleted entity leaves a tombstone, and a
// re-created one continues the tombstone's revision tree (revision 3-...
// after 1-... and the 2-... deletion), so revisions are never reused as
// long as tombstones are not purged (_purge, or dropping the database).
// <prefix>activations holds activations as they are in JSON, id = the
// activation id, listed through the views of _design/wisp (newest first by
// start, per namespace and per entity name). <prefix>subjects holds
// "ns:<namespace>" documents (the subject) and "uuid:<uuid>" documents
// (the namespace owning the uuid), which make both unique.
//
// Open turns off HTTP compression: CouchDB-compatible servers may buffer a
// gzipped response. Store is the main type; Open creates what is missing.
package couchdb
