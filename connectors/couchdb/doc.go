// Package couchdb connects Wisp to CouchDB databases (or any server
// speaking CouchDB's protocol): the catalogue package /whisk.system/couchdb.
//
// Provider serves the feed `changes`: it follows a database's continuous
// changes feed (kivik, HTTP compression off) and delivers each change with
// the payload OpenWhisk's cloudant changes feed fires ({"id", "seq",
// "changes": [{"rev"}], "deleted", "dbname"}) and the change's seq as
// cursor, so a restarted feed resumes after the last change delivered.
// It reconnects with backoff after a dropped connection or a failed
// delivery, reporting the error. Actions returns the system actions read,
// write and query. The feed lifecycle itself is the feeds package's.
package couchdb
