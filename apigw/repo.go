package apigw

import (
	"context"
	"errors"
	"fmt"

	"github.com/wispio/wisp/store"
)

// Collection holds each namespace's API table, one document named
// tableDoc.
const Collection store.Collection = "apis"

const tableDoc = "table"

// Repo reads and writes the API tables through the store. Reads go to the
// store every time (one record per request) and decode through a
// store.DocCache, so every controller of a cluster sees a change at once
// and a table is compiled once per revision.
type Repo struct {
	store store.Store
	cache *store.DocCache[Table]
}

// NewRepo returns the tables of st.
func NewRepo(st store.Store) *Repo {
	return &Repo{store: st, cache: store.NewDocCache[Table](st, Collection, 4096)}
}

// Table returns a namespace's APIs (an empty table when it has none). The
// table is shared: do not modify it.
func (r *Repo) Table(ctx context.Context, ns string) (*Table, error) {
	t, _, err := r.cache.Get(ctx, ns, tableDoc)
	if errors.Is(err, store.ErrNotFound) {
		return &Table{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read APIs of %s: %w", ns, err)
	}
	return t, nil
}

// Update applies fn to a copy of a namespace's table and stores it,
// retrying when another writer changed it in between. An empty table is
// deleted.
func (r *Repo) Update(ctx context.Context, ns string, fn func(*Table) error) (*Table, error) {
	for attempt := 0; ; attempt++ {
		cur, rev, err := r.cache.Get(ctx, ns, tableDoc)
		switch {
		case errors.Is(err, store.ErrNotFound):
			cur, rev = &Table{}, ""
		case err != nil:
			return nil, fmt.Errorf("read APIs of %s: %w", ns, err)
		}
		t := cur.Clone()
		if err := fn(t); err != nil {
			return nil, err
		}
		t.compile()
		if len(t.APIs) == 0 {
			if rev == "" {
				return t, nil
			}
			err = r.store.Delete(ctx, ns, Collection, tableDoc, rev)
		} else {
			_, err = store.PutDoc(ctx, r.store, ns, Collection, tableDoc, rev, t)
		}
		if errors.Is(err, store.ErrConflict) || (errors.Is(err, store.ErrNotFound) && rev != "") {
			if attempt < 10 {
				continue // changed under us: apply fn to the new table
			}
		}
		if err != nil {
			return nil, fmt.Errorf("write APIs of %s: %w", ns, err)
		}
		return t, nil
	}
}
