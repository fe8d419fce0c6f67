package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"

	"go.etcd.io/bbolt"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
)

// appendFillPercent packs the leaves of buckets whose keys arrive mostly
// in ascending order (see the package doc).
const appendFillPercent = 0.9

// encodedActivation is an activation ready to be written.
type encodedActivation struct {
	id, name string
	key, doc []byte
}

// PutActivations writes all records in one transaction; a record whose id
// is stored replaces the stored one. Encoding happens before the write
// lock is taken.
func (s *Store) PutActivations(ctx context.Context, acts []*entity.Activation) error {
	if len(acts) == 0 {
		return nil
	}
	enc := make([]encodedActivation, len(acts))
	for i, a := range acts {
		e, err := encodeActivation(a)
		if err != nil {
			return fmt.Errorf("put activation %s/%s: %w", a.Namespace, a.ActivationID, err)
		}
		enc[i] = e
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %d activations: %w", len(acts), err)
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		w := activationWriter{
			acts:  tx.Bucket(bucketActivations),
			names: tx.Bucket(bucketActsByName),
			ids:   tx.Bucket(bucketActivationIDs),
		}
		w.acts.FillPercent = appendFillPercent
		w.names.FillPercent = appendFillPercent
		for _, e := range enc {
			if err := w.put(e); err != nil {
				return fmt.Errorf("%s: %w", e.id, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("put %d activations: %w", len(acts), err)
	}
	return nil
}

func encodeActivation(a *entity.Activation) (encodedActivation, error) {
	for _, part := range []struct{ what, v string }{
		{"activation id", a.ActivationID}, {"namespace", a.Namespace}, {"name", a.Name},
	} {
		if err := checkName(part.what, part.v); err != nil {
			return encodedActivation{}, err
		}
	}
	doc, err := json.Marshal(a)
	if err != nil {
		return encodedActivation{}, fmt.Errorf("encode: %w", err)
	}
	return encodedActivation{
		id: a.ActivationID, name: a.Name, doc: doc,
		key: activationKey(a.Namespace, a.Start, a.ActivationID),
	}, nil
}

// activationWriter updates the three activation buckets in one transaction.
type activationWriter struct {
	acts, names, ids *bbolt.Bucket
}

func (w activationWriter) put(e encodedActivation) error {
	// old aliases the ids bucket, which stays untouched until the last Put.
	if old := w.ids.Get([]byte(e.id)); old != nil {
		oldName, oldKey, err := decodeIDEntry(old)
		if err != nil {
			return err
		}
		if oldName == e.name && bytes.Equal(oldKey, e.key) {
			return w.acts.Put(e.key, e.doc) // same place: replace the body only
		}
		if err := w.acts.Delete(oldKey); err != nil {
			return err
		}
		if err := w.names.Delete(nameKey(oldKey, oldName)); err != nil {
			return err
		}
	}
	if err := w.acts.Put(e.key, e.doc); err != nil {
		return err
	}
	if err := w.names.Put(nameKey(e.key, e.name), []byte{}); err != nil {
		return err
	}
	return w.ids.Put([]byte(e.id), encodeIDEntry(e.name, e.key))
}

// GetActivation returns one activation of a namespace.
func (s *Store) GetActivation(ctx context.Context, ns, id string) (*entity.Activation, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("get activation %s/%s: %w", ns, id, err)
	}
	a := new(entity.Activation)
	err := s.db.View(func(tx *bbolt.Tx) error {
		entry := tx.Bucket(bucketActivationIDs).Get([]byte(id))
		if entry == nil {
			return store.ErrNotFound
		}
		_, key, err := decodeIDEntry(entry)
		if err != nil {
			return err
		}
		if len(key) <= len(ns) || key[len(ns)] != 0 || string(key[:len(ns)]) != ns {
			return store.ErrNotFound // stored, but in another namespace
		}
		return decodeActivation(tx.Bucket(bucketActivations).Get(key), a)
	})
	if err != nil {
		return nil, fmt.Errorf("get activation %s/%s: %w", ns, id, err)
	}
	return a, nil
}

// decodeActivation decodes v into a. Decoding straight from the memory map
// is safe: encoding/json copies strings and json.RawMessage values, and
// entity types keep no reference to the input.
func decodeActivation(v []byte, a *entity.Activation) error {
	if v == nil {
		return fmt.Errorf("index names a missing record: %w", errCorrupt)
	}
	if err := json.Unmarshal(v, a); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}

// ListActivations returns a namespace's activations newest first (ties by
// id descending), walking keys backwards from Upto to Since. A record that
// cannot be decoded is skipped, logged and counted (store.SkipCounter).
func (s *Store) ListActivations(ctx context.Context, ns string, f store.ActivationFilter) ([]*entity.Activation, error) {
	out, err := s.listActivations(ctx, ns, f)
	if err != nil {
		return nil, fmt.Errorf("list activations %s: %w", ns, err)
	}
	return out, nil
}

func (s *Store) listActivations(ctx context.Context, ns string, f store.ActivationFilter) ([]*entity.Activation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	bucket, prefix := bucketActivations, nsPrefix(ns)
	if f.Name != "" {
		bucket, prefix = bucketActsByName, namePrefix(ns, f.Name)
	}
	lo, hi := timeRange(prefix, f.Since, f.Upto)
	skip := max(f.Skip, 0)
	out := []*entity.Activation{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		acts := tx.Bucket(bucketActivations)
		cur := tx.Bucket(bucket).Cursor()
		var actKey []byte // rebuilt per hit when walking the name index
		n := 0
		for k, v := seekBefore(cur, hi); k != nil && bytes.Compare(k, lo) >= 0; k, v = cur.Prev() {
			if err := scanCancelled(ctx, n); err != nil {
				return err
			}
			n++
			if skip > 0 {
				skip--
				continue
			}
			if f.Name != "" {
				actKey = append(append(actKey[:0], ns...), 0)
				actKey = append(actKey, k[len(prefix):]...)
				v = acts.Get(actKey)
			}
			a := new(entity.Activation)
			if err := decodeActivation(v, a); err != nil {
				s.skipped("activation", k, err)
				continue
			}
			out = append(out, a)
			if f.Limit > 0 && len(out) >= f.Limit {
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// timeRange returns the keys [lo, hi) of the records under prefix whose
// start lies in [since, upto]; 0 leaves a side unbounded.
func timeRange(prefix []byte, since, upto int64) (lo, hi []byte) {
	lo = prefix
	if since != 0 {
		lo = appendTime(bytes.Clone(prefix), since)
	}
	hi = prefixEnd(prefix)
	if upto != 0 && upto != math.MaxInt64 {
		hi = appendTime(bytes.Clone(prefix), upto+1)
	}
	return lo, hi
}

// seekBefore positions cur on the last key below hi.
func seekBefore(cur *bbolt.Cursor, hi []byte) (k, v []byte) {
	if k, _ := cur.Seek(hi); k == nil {
		return cur.Last()
	}
	return cur.Prev()
}
