// Package bolt is the embedded store.Store: one bbolt file in the data
// folder, opened by one process at a time. It is the default for `wisp serve`
// on a single machine; clusters share a CouchDB instead.
//
// Reads run in bbolt read transactions and copy what they return out of the
// memory map; every write call is one transaction. The main type is Store,
// made by Open. The bucket layout is documented below, next to the names.
package bolt

// Bucket layout. "+" concatenates, 0x00 separates variable parts (the store
// rejects names containing 0x00), t8 is a start time as 8 big-endian bytes
// with the sign bit flipped so that byte order is numeric order.
//
//	meta               "version" -> layoutVersion
//	entities           ns 0x00 collection 0x00 name -> len(rev) byte + rev + doc
//	activations        ns 0x00 t8 id                -> activation JSON
//	activationsByName  ns 0x00 name 0x00 t8 id      -> empty
//	activationIDs      id                           -> uvarint len(name) + name + activations key
//	subjects           namespace                    -> subject JSON
//	subjectUUIDs       uuid                         -> namespace
//
// Activation keys ascend with time, so a namespace's newest records are the
// last keys of its range: ListActivations seeks past the range (or past Upto)
// and walks the cursor backwards until Since, reading only the records it
// returns (plus skipped keys) and never sorting. Ties in start time come out
// by id descending. Appending at the end of a range keeps leaves densely
// packed with a high fill percent; descending keys split poorly when records
// arrive one per transaction. A Name filter walks activationsByName instead,
// whose suffix (t8 id) rebuilds the activations key. activationIDs makes
// GetActivation and the replacement of a re-put id O(log n); it keeps the name
// so a replaced record's name-index entry can be removed without decoding it.
//
// Revisions are "N-h": N counts the entity's versions since it was created,
// h is 16 hex digits of SHA-256 over a store-wide sequence number and the
// document, so a revision is never reused, not even after delete and create.
var (
	bucketMeta          = []byte("meta")
	bucketEntities      = []byte("entities")
	bucketActivations   = []byte("activations")
	bucketActsByName    = []byte("activationsByName")
	bucketActivationIDs = []byte("activationIDs")
	bucketSubjects      = []byte("subjects")
	bucketSubjectUUIDs  = []byte("subjectUUIDs")

	allBuckets = [][]byte{bucketMeta, bucketEntities, bucketActivations, bucketActsByName,
		bucketActivationIDs, bucketSubjects, bucketSubjectUUIDs}
)

// layoutVersion is stored in meta; Open refuses a file of another version.
const layoutVersion = "1"
