package couchdb

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-kivik/kivik/v4"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/internal/couch"
	"github.com/wispio/wisp/store"
)

// activationViews index activations newest first: by_start per namespace,
// by_name per namespace and entity name; the id ends each key so that
// equal starts come in id order.
var activationViews = designDoc{
	ID:       "_design/wisp",
	Language: "javascript",
	Views: map[string]view{
		"by_start": {Map: `function (doc) { if (doc.namespace && typeof doc.start === "number") { emit([doc.namespace, doc.start, doc._id], null); } }`},
		"by_name":  {Map: `function (doc) { if (doc.namespace && typeof doc.start === "number") { emit([doc.namespace, doc.name, doc.start, doc._id], null); } }`},
	},
}

// activationDoc is an activation's CouchDB document: the activation's own
// JSON plus _id and _rev.
type activationDoc struct {
	ID  string `json:"_id"`
	Rev string `json:"_rev,omitempty"`
	*entity.Activation
}

// maxPutRounds bounds the rounds of PutActivations that replace records
// other writers keep replacing.
const maxPutRounds = 10

// PutActivations writes the records with one _bulk_docs request. A record
// already stored comes back as a conflict; those get their current
// revision from _all_docs and go again. Later records of one id win over
// earlier ones of the same call.
func (s *Store) PutActivations(ctx context.Context, acts []*entity.Activation) error {
	if err := s.putActivations(ctx, acts); err != nil {
		return fmt.Errorf("put %d activations: %w", len(acts), err)
	}
	return nil
}

func (s *Store) putActivations(ctx context.Context, acts []*entity.Activation) error {
	pending := make(map[string]*activationDoc, len(acts))
	order := make([]string, 0, len(acts))
	for _, a := range acts {
		if err := checkActivation(a); err != nil {
			return fmt.Errorf("activation %s: %w", a.ActivationID, err)
		}
		if _, ok := pending[a.ActivationID]; !ok {
			order = append(order, a.ActivationID)
		}
		pending[a.ActivationID] = &activationDoc{ID: a.ActivationID, Activation: a}
	}
	for range maxPutRounds {
		if len(order) == 0 {
			return nil
		}
		docs := make([]any, len(order))
		for i, id := range order {
			docs[i] = pending[id]
		}
		results, err := s.activations.BulkDocs(ctx, docs)
		if err != nil {
			return err
		}
		var conflicts []string
		for _, r := range results {
			switch couch.Status(r.Error) {
			case 0:
				delete(pending, r.ID)
			case http.StatusConflict:
				conflicts = append(conflicts, r.ID)
			default:
				return fmt.Errorf("activation %s: %w", r.ID, r.Error)
			}
		}
		if err := s.currentRevs(ctx, conflicts, pending); err != nil {
			return err
		}
		order = conflicts
	}
	return fmt.Errorf("activations %s: still conflicting after %d rounds: %w", strings.Join(order, ", "), maxPutRounds, store.ErrConflict)
}

// checkActivation rejects an activation whose id or key fields would not
// index.
func checkActivation(a *entity.Activation) error {
	switch {
	case a.ActivationID == "":
		return fmt.Errorf("activation id is missing")
	case strings.HasPrefix(a.ActivationID, "_"):
		return fmt.Errorf("activation id %q starts with '_'", a.ActivationID)
	case a.Namespace == "":
		return fmt.Errorf("namespace is missing")
	case a.Name == "":
		return fmt.Errorf("name is missing")
	}
	return nil
}

// currentRevs sets the revision of the stored documents among ids.
func (s *Store) currentRevs(ctx context.Context, ids []string, docs map[string]*activationDoc) error {
	if len(ids) == 0 {
		return nil
	}
	rows := s.activations.AllDocs(ctx, kivik.Param("keys", ids))
	return scanRows(rows, func(row *kivik.ResultSet) error {
		id, err := row.ID()
		if err != nil {
			return err
		}
		var v struct {
			Rev string `json:"rev"`
		}
		if err := row.ScanValue(&v); err != nil {
			return fmt.Errorf("revision of %s: %w", id, err)
		}
		if d, ok := docs[id]; ok {
			d.Rev = v.Rev
		}
		return nil
	})
}

// GetActivation returns one activation of a namespace.
func (s *Store) GetActivation(ctx context.Context, ns, id string) (*entity.Activation, error) {
	a := new(entity.Activation)
	err := s.activations.Get(ctx, id).ScanDoc(a)
	switch {
	case err != nil:
		return nil, fmt.Errorf("get activation %s/%s: %w", ns, id, mapStatus(err))
	case a.Namespace != ns:
		return nil, fmt.Errorf("get activation %s/%s: %w", ns, id, store.ErrNotFound)
	}
	return a, nil
}

// ListActivations returns a namespace's activations newest first (ties by
// id descending), walking a view backwards from Upto to Since. A record
// that cannot be decoded is skipped, logged and counted (see
// undecodable.go).
func (s *Store) ListActivations(ctx context.Context, ns string, f store.ActivationFilter) ([]*entity.Activation, error) {
	out := []*entity.Activation{}
	if f.Since != 0 && f.Upto != 0 && f.Since > f.Upto {
		return out, nil // CouchDB refuses a reversed range
	}
	viewName, key := "by_start", []any{ns}
	if f.Name != "" {
		viewName, key = "by_name", []any{ns, f.Name}
	}
	params := map[string]any{
		"descending":   true,
		"include_docs": true,
		"startkey":     append(key[:len(key):len(key)], bound(f.Upto), map[string]any{}),
		"endkey":       key,
	}
	if f.Since != 0 {
		params["endkey"] = append(key[:len(key):len(key)], f.Since)
	}
	if f.Skip > 0 {
		params["skip"] = f.Skip
	}
	if f.Limit > 0 {
		params["limit"] = f.Limit
	}
	rows := s.activations.Query(ctx, "_design/wisp", viewName, kivik.Params(params))
	err := scanRows(rows, func(row *kivik.ResultSet) error {
		a := new(entity.Activation)
		if err := row.ScanDoc(a); err != nil {
			id, _ := row.ID()
			return fmt.Errorf("%s: %w", id, err)
		}
		out = append(out, a)
		return nil
	})
	if err != nil && ctx.Err() == nil {
		out, err = s.listActivationsOneByOne(ctx, viewName, params)
	}
	if err != nil {
		return nil, fmt.Errorf("list activations %s: %w", ns, err)
	}
	return out, nil
}

// bound is the view key part above every start up to upto: the number
// itself, or an object (objects collate after numbers) when unbounded.
func bound(upto int64) any {
	if upto == 0 {
		return map[string]any{}
	}
	return upto
}
