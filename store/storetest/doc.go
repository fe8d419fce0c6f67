// Package storetest is the conformance suite for store.Store: Run drives an
// implementation through every method and the contract its doc comments
// state (revisions and conflicts, name order and paging, namespace isolation,
// idempotent activation writes, newest-first listing with filters, subjects,
// concurrent writers). Every implementation's tests call Run with a function
// that opens a fresh, empty store. It holds no tests of its own.
package storetest
