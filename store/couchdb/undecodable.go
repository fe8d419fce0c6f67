package couchdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/go-kivik/kivik/v4"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/internal/couch"
	"github.com/wispio/wisp/store"
)

// A list reads its documents in one response, row after row (kivik's
// stream of rows). A row whose document does not decode (one nesting past
// encoding/json's depth, written before Wisp had limits) breaks that
// stream for every row after it. The lists then fall back to reading the
// ids alone and each document by itself, skipping, logging and counting
// the ones that do not decode: one bad record never fails a list.

// Undecodable is how many records lists skipped because they could not
// be decoded; see store.SkipCounter.
func (s *Store) Undecodable() int64 { return s.undecodable.Load() }

// skipped logs and counts a record a list leaves out.
func (s *Store) skipped(what, id string, err error) {
	s.undecodable.Add(1)
	s.log.Warn("store: list skips a record that cannot be decoded", "what", what, "key", id, "err", err)
}

// undecodable tells a document that does not decode from a failure to
// read it.
func undecodable(err error) bool {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	return errors.As(err, &syntax) || errors.As(err, &typ)
}

// rowIDs returns the ids of the rows rows holds.
func rowIDs(rows *kivik.ResultSet) ([]string, error) {
	var ids []string
	err := scanRows(rows, func(row *kivik.ResultSet) error {
		id, err := row.ID()
		if err != nil {
			return err
		}
		ids = append(ids, id)
		return nil
	})
	return ids, err
}

// eachDoc reads the documents of ids one at a time into a new T each and
// calls fn with it; a document gone meanwhile is left out, one that does
// not decode is skipped.
func eachDoc[T any](ctx context.Context, s *Store, db *kivik.DB, what string, ids []string, fn func(id string, v *T)) error {
	for _, id := range ids {
		v := new(T)
		err := db.Get(ctx, id).ScanDoc(v)
		switch {
		case err == nil:
			fn(id, v)
		case couch.Status(err) == http.StatusNotFound:
		case undecodable(err) && ctx.Err() == nil:
			s.skipped(what, id, err)
		default:
			return fmt.Errorf("%s: %w", id, err)
		}
	}
	return nil
}

// listActivationsOneByOne is ListActivations' fallback: the view's ids,
// then each activation by itself.
func (s *Store) listActivationsOneByOne(ctx context.Context, viewName string, params map[string]any) ([]*entity.Activation, error) {
	params["include_docs"] = false
	ids, err := rowIDs(s.activations.Query(ctx, "_design/wisp", viewName, kivik.Params(params)))
	if err != nil {
		return nil, err
	}
	out := []*entity.Activation{}
	err = eachDoc(ctx, s, s.activations, "activation", ids, func(_ string, a *entity.Activation) { out = append(out, a) })
	return out, err
}

// listOneByOne is List's fallback: the range's ids, then each entity by
// itself.
func (s *Store) listOneByOne(ctx context.Context, ns string, c store.Collection, base string, params map[string]any, project func([]byte) ([]byte, error)) ([]store.Record, error) {
	params["include_docs"] = false
	ids, err := rowIDs(s.entities.AllDocs(ctx, kivik.Params(params)))
	if err != nil {
		return nil, err
	}
	out := []store.Record{}
	opts := store.ListOptions{Project: project}
	err = eachDoc(ctx, s, s.entities, "entity", ids, func(id string, d *entityDoc) {
		doc, err := opts.Projected(d.Doc)
		if err != nil {
			s.skipped("entity", id, err)
			return
		}
		out = append(out, store.Record{Namespace: ns, Collection: c, Name: id[len(base):], Rev: d.Rev, Doc: doc})
	})
	return out, err
}
