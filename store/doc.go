// Package store defines where Wisp keeps its state: entities (actions,
// triggers, rules, packages) as JSON documents by namespace, collection and
// name with revisions for optimistic concurrency; activation records with
// list filters; and namespace subjects with their hashed keys.
//
// Store is the interface; store/bolt is the embedded default and
// store/storetest is the conformance suite every implementation runs. The
// store knows nothing of HTTP or of how entities are validated.
package store
