package couchdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/go-kivik/kivik/v4"

	"github.com/wispio/wisp/internal/couch"
	"github.com/wispio/wisp/store"
)

// entityDoc is an entity's CouchDB document.
type entityDoc struct {
	Rev string          `json:"_rev,omitempty"`
	Doc json.RawMessage `json:"doc"`
}

// collectionPrefix is the id prefix of a namespace's collection.
func collectionPrefix(ns string, c store.Collection) string {
	return string(c) + "/" + ns + "/"
}

func entityID(ns string, c store.Collection, name string) string {
	return collectionPrefix(ns, c) + name
}

// checkEntityKey rejects key parts that would make one id pass for
// another; an empty name is allowed only where a collection is listed.
func checkEntityKey(ns string, c store.Collection, name string, nameOK bool) error {
	if err := checkPart("namespace", ns, false); err != nil {
		return err
	}
	if err := checkPart("collection", string(c), false); err != nil {
		return err
	}
	if nameOK {
		return nil
	}
	return checkPart("name", name, true)
}

// Get returns the current record of an entity.
func (s *Store) Get(ctx context.Context, ns string, c store.Collection, name string) (store.Record, error) {
	if err := checkEntityKey(ns, c, name, false); err != nil {
		return store.Record{}, fmt.Errorf("get %s/%s/%s: %w", ns, c, name, err)
	}
	var d entityDoc
	if err := s.entities.Get(ctx, entityID(ns, c, name)).ScanDoc(&d); err != nil {
		return store.Record{}, fmt.Errorf("get %s/%s/%s: %w", ns, c, name, mapStatus(err))
	}
	return store.Record{Namespace: ns, Collection: c, Name: name, Rev: d.Rev, Doc: d.Doc}, nil
}

// Put creates or updates an entity; see store.Store. CouchDB checks the
// revision; a failed update asks again whether the entity exists to tell
// a stale revision (ErrConflict) from a deleted entity (ErrNotFound), as
// servers differ in what they answer.
func (s *Store) Put(ctx context.Context, rec store.Record) (string, error) {
	rev, err := s.put(ctx, rec)
	if err != nil {
		return "", fmt.Errorf("put %s/%s/%s: %w", rec.Namespace, rec.Collection, rec.Name, err)
	}
	return rev, nil
}

func (s *Store) put(ctx context.Context, rec store.Record) (string, error) {
	if err := checkEntityKey(rec.Namespace, rec.Collection, rec.Name, false); err != nil {
		return "", err
	}
	if !json.Valid(rec.Doc) {
		return "", errors.New("the document is not JSON")
	}
	id := entityID(rec.Namespace, rec.Collection, rec.Name)
	rev, err := s.entities.Put(ctx, id, entityDoc{Rev: rec.Rev, Doc: rec.Doc})
	if err == nil {
		return rev, nil
	}
	if rec.Rev == "" {
		return "", mapStatus(err)
	}
	switch couch.Status(err) {
	case http.StatusConflict, http.StatusNotFound, http.StatusBadRequest: // 400: a malformed revision
		return "", s.whyRejected(ctx, id)
	}
	return "", err
}

// whyRejected explains a write with a revision the server refused:
// ErrNotFound when the entity is gone, else ErrConflict.
func (s *Store) whyRejected(ctx context.Context, id string) error {
	_, err := currentRev(ctx, s.entities, id)
	switch {
	case err == nil:
		return store.ErrConflict
	case errors.Is(err, store.ErrNotFound):
		return store.ErrNotFound
	}
	return fmt.Errorf("revision rejected, and reading the current one failed: %w", err)
}

// currentRev returns the current revision of a live document, or
// ErrNotFound. It asks _all_docs, which answers without the document body
// (a HEAD request would too, but pouchdb-server's ETag is not the
// revision).
func currentRev(ctx context.Context, db *kivik.DB, id string) (string, error) {
	rev, found := "", false
	err := scanRows(db.AllDocs(ctx, kivik.Param("keys", []string{id})), func(row *kivik.ResultSet) error {
		var v struct {
			Rev     string `json:"rev"`
			Deleted bool   `json:"deleted"`
		}
		if rowID, err := row.ID(); err != nil || rowID == "" {
			return nil // {"key": id, "error": "not_found"}
		}
		if err := row.ScanValue(&v); err != nil {
			return err
		}
		rev, found = v.Rev, v.Rev != "" && !v.Deleted
		return nil
	})
	switch {
	case err != nil:
		return "", err
	case !found:
		return "", store.ErrNotFound
	}
	return rev, nil
}

// Delete removes an entity; see store.Store. Without a revision it deletes
// the current one, reading it again when a writer came in between.
func (s *Store) Delete(ctx context.Context, ns string, c store.Collection, name, rev string) error {
	err := checkEntityKey(ns, c, name, false)
	if err == nil {
		err = s.delete(ctx, entityID(ns, c, name), rev)
	}
	if err != nil {
		return fmt.Errorf("delete %s/%s/%s: %w", ns, c, name, err)
	}
	return nil
}

func (s *Store) delete(ctx context.Context, id, rev string) error {
	if rev != "" {
		_, err := s.entities.Delete(ctx, id, rev)
		switch couch.Status(err) {
		case 0:
			return nil
		case http.StatusConflict, http.StatusNotFound, http.StatusBadRequest:
			return s.whyRejected(ctx, id)
		}
		return err
	}
	for {
		cur, err := currentRev(ctx, s.entities, id)
		if err != nil {
			return err
		}
		_, err = s.entities.Delete(ctx, id, cur)
		if couch.Status(err) == http.StatusConflict {
			continue // updated meanwhile: delete the newer revision
		}
		return mapStatus(err)
	}
}

// List returns records in name order; see store.Store. A record that
// cannot be decoded is skipped, logged and counted (see undecodable.go).
func (s *Store) List(ctx context.Context, ns string, c store.Collection, opts store.ListOptions) ([]store.Record, error) {
	if err := checkEntityKey(ns, c, "", true); err != nil {
		return nil, fmt.Errorf("list %s/%s: %w", ns, c, err)
	}
	out := []store.Record{}
	base := collectionPrefix(ns, c)
	params := idRange(base + opts.Prefix)
	if opts.StartAfter > opts.Prefix {
		params["startkey"] = base + opts.StartAfter + "\x00" // _all_docs sorts ids raw: the least id after it
	}
	params["include_docs"] = true
	if opts.Skip > 0 {
		params["skip"] = opts.Skip
	}
	if opts.Limit > 0 {
		params["limit"] = opts.Limit
	}
	err := scanRows(s.entities.AllDocs(ctx, kivik.Params(params)), func(row *kivik.ResultSet) error {
		id, err := row.ID()
		if err != nil {
			return err
		}
		var d entityDoc
		if err := row.ScanDoc(&d); err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		doc, err := opts.Projected(d.Doc)
		if err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		out = append(out, store.Record{Namespace: ns, Collection: c, Name: id[len(base):], Rev: d.Rev, Doc: doc})
		return nil
	})
	if err != nil && ctx.Err() == nil {
		out, err = s.listOneByOne(ctx, ns, c, base, params, opts.Project)
	}
	if err != nil {
		return nil, fmt.Errorf("list %s/%s: %w", ns, c, err)
	}
	return out, nil
}

// Count returns how many names in a collection start with prefix: it
// counts the ids of the range, not reading the documents.
func (s *Store) Count(ctx context.Context, ns string, c store.Collection, prefix string) (int, error) {
	if err := checkEntityKey(ns, c, "", true); err != nil {
		return 0, fmt.Errorf("count %s/%s: %w", ns, c, err)
	}
	n := 0
	rows := s.entities.AllDocs(ctx, kivik.Params(idRange(collectionPrefix(ns, c)+prefix)))
	if err := scanRows(rows, func(*kivik.ResultSet) error { n++; return nil }); err != nil {
		return 0, fmt.Errorf("count %s/%s: %w", ns, c, err)
	}
	return n, nil
}

// idRange returns the _all_docs parameters selecting the ids that start
// with prefix: from prefix up to, not including, the first string after
// all of them.
func idRange(prefix string) map[string]any {
	return map[string]any{"startkey": prefix, "endkey": prefixEnd(prefix), "inclusive_end": false}
}

// prefixEnd returns the least string greater than every string starting
// with prefix: prefix with its last rune incremented. (A prefix of only
// utf8.MaxRune runes has none; the empty prefix never reaches here.)
func prefixEnd(prefix string) string {
	for prefix != "" {
		r, size := utf8.DecodeLastRuneInString(prefix)
		prefix = prefix[:len(prefix)-size]
		if r < utf8.MaxRune {
			next := r + 1
			if next >= 0xD800 && next <= 0xDFFF { // surrogates are not runes
				next = 0xE000
			}
			return prefix + string(next)
		}
	}
	return string(utf8.MaxRune)
}

// scanRows calls fn for each row, then closes rows and returns the first
// error.
func scanRows(rows *kivik.ResultSet, fn func(*kivik.ResultSet) error) error {
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
