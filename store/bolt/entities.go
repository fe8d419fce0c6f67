package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/wispio/wisp/store"
)

// Get returns the current record of an entity. It is on the warm invoke
// path: one read transaction, one B+tree lookup, two allocations (the
// revision and the copied document).
func (s *Store) Get(ctx context.Context, ns string, c store.Collection, name string) (store.Record, error) {
	if err := ctx.Err(); err != nil {
		return store.Record{}, fmt.Errorf("get %s/%s/%s: %w", ns, c, name, err)
	}
	var buf [128]byte
	key := appendEntityKey(buf[:0], ns, c, name)
	rec := store.Record{Namespace: ns, Collection: c, Name: name}
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketEntities).Get(key)
		if v == nil {
			return store.ErrNotFound
		}
		return fillRecord(&rec, v)
	})
	if err != nil {
		return store.Record{}, fmt.Errorf("get %s/%s/%s: %w", ns, c, name, err)
	}
	return rec, nil
}

// fillRecord copies the revision and document of entity value v out of
// the memory map into rec.
func fillRecord(rec *store.Record, v []byte) error {
	rev, doc, err := splitEntity(v)
	if err != nil {
		return err
	}
	rec.Rev = string(rev)
	rec.Doc = bytes.Clone(doc)
	return nil
}

// Put creates or updates an entity; see store.Store.
func (s *Store) Put(ctx context.Context, rec store.Record) (string, error) {
	rev, err := s.put(ctx, rec)
	if err != nil {
		return "", fmt.Errorf("put %s/%s/%s: %w", rec.Namespace, rec.Collection, rec.Name, err)
	}
	return rev, nil
}

func (s *Store) put(ctx context.Context, rec store.Record) (string, error) {
	for _, part := range []struct{ what, v string }{
		{"namespace", rec.Namespace}, {"collection", string(rec.Collection)}, {"name", rec.Name},
	} {
		if err := checkName(part.what, part.v); err != nil {
			return "", err
		}
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	key := appendEntityKey(nil, rec.Namespace, rec.Collection, rec.Name)
	var rev string
	err := s.writes.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketEntities)
		cur, err := currentRev(b.Get(key))
		if err != nil {
			return err
		}
		switch {
		case rec.Rev == "" && cur != "":
			return store.ErrConflict
		case rec.Rev != "" && cur == "":
			return store.ErrNotFound
		case rec.Rev != cur:
			return store.ErrConflict
		}
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		rev = nextRev(cur, seq, rec.Doc)
		return b.Put(key, encodeEntity(rev, rec.Doc))
	})
	return rev, err
}

// currentRev returns the revision of entity value v, "" when v is nil.
func currentRev(v []byte) (string, error) {
	if v == nil {
		return "", nil
	}
	rev, _, err := splitEntity(v)
	return string(rev), err
}

// Delete removes an entity; see store.Store.
func (s *Store) Delete(ctx context.Context, ns string, c store.Collection, name, rev string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %s/%s/%s: %w", ns, c, name, err)
	}
	key := appendEntityKey(nil, ns, c, name)
	err := s.writes.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketEntities)
		v := b.Get(key)
		if v == nil {
			return store.ErrNotFound
		}
		cur, _, err := splitEntity(v)
		if err != nil {
			return err
		}
		if rev != "" && rev != string(cur) {
			return store.ErrConflict
		}
		return b.Delete(key)
	})
	if err != nil {
		return fmt.Errorf("delete %s/%s/%s: %w", ns, c, name, err)
	}
	return nil
}

// DeleteLater removes an entity at any revision without waiting for it to
// be durable (store.LaterDeleter): the removal rides with the next commit,
// or commits on its own within 100 ms; a crash before then undoes it.
func (s *Store) DeleteLater(ctx context.Context, ns string, c store.Collection, name string) {
	key := appendEntityKey(nil, ns, c, name)
	s.writes.Later(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketEntities).Delete(key)
	})
}

// CommitLater commits the deferred deletes now (store.LaterDeleter).
func (s *Store) CommitLater(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.writes.Sync(); err != nil {
		return fmt.Errorf("commit deferred deletes: %w", err)
	}
	return nil
}

// List returns records in name order; see store.Store. A record that
// cannot be decoded (a corrupt value, a document that is not JSON within
// encoding/json's depth) is skipped, logged and counted.
func (s *Store) List(ctx context.Context, ns string, c store.Collection, opts store.ListOptions) ([]store.Record, error) {
	out := []store.Record{}
	skip := max(opts.Skip, 0)
	err := s.scanEntities(ctx, ns, c, opts.Prefix, opts.StartAfter, func(name, v []byte) (bool, error) {
		if skip > 0 {
			skip--
			return true, nil
		}
		rec := store.Record{Namespace: ns, Collection: c, Name: string(name)}
		rev, doc, err := splitEntity(v)
		if err != nil {
			s.skipped("entity "+ns+"/"+string(c), name, err)
			return true, nil
		}
		// A projection decodes the document, so it refuses one that is
		// not JSON itself: checked here only without one (a document
		// of megabytes is scanned once, not twice).
		if opts.Project == nil && !json.Valid(doc) {
			s.skipped("entity "+ns+"/"+string(c), name, errors.New("the document is not valid JSON"))
			return true, nil
		}
		// The projection reads the document in the memory map: only
		// what it returns is copied out.
		kept, err := opts.Projected(doc)
		if err != nil {
			s.skipped("entity "+ns+"/"+string(c), name, err)
			return true, nil
		}
		rec.Rev, rec.Doc = string(rev), bytes.Clone(kept)
		out = append(out, rec)
		return opts.Limit <= 0 || len(out) < opts.Limit, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s/%s: %w", ns, c, err)
	}
	return out, nil
}

// Count returns how many names in a collection start with prefix.
func (s *Store) Count(ctx context.Context, ns string, c store.Collection, prefix string) (int, error) {
	n := 0
	err := s.scanEntities(ctx, ns, c, prefix, "", func(_, _ []byte) (bool, error) {
		n++
		return true, nil
	})
	if err != nil {
		return 0, fmt.Errorf("count %s/%s: %w", ns, c, err)
	}
	return n, nil
}

// scanEntities calls fn in name order for each entity of ns/c whose name
// starts with prefix (and, when after is set, comes after it), until fn
// returns false. name and v alias the memory map and are valid only during
// the call.
func (s *Store) scanEntities(ctx context.Context, ns string, c store.Collection, prefix, after string, fn func(name, v []byte) (bool, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	collPrefix := appendEntityKey(nil, ns, c, "")
	seek := append(collPrefix[:len(collPrefix):len(collPrefix)], prefix...)
	start := seek
	if after > prefix {
		start = append(collPrefix[:len(collPrefix):len(collPrefix)], after...)
	}
	return s.db.View(func(tx *bbolt.Tx) error {
		cur := tx.Bucket(bucketEntities).Cursor()
		n := 0
		k, v := cur.Seek(start)
		if after > prefix && bytes.Equal(k, start) {
			k, v = cur.Next()
		}
		for ; k != nil && bytes.HasPrefix(k, seek); k, v = cur.Next() {
			if err := scanCancelled(ctx, n); err != nil {
				return err
			}
			n++
			more, err := fn(k[len(collPrefix):], v)
			if err != nil || !more {
				return err
			}
		}
		return nil
	})
}
