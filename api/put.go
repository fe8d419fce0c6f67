package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/wispio/wisp/store"
)

// putEntity writes one entity the way every PUT does: it reads the stored
// one, refuses to replace it without overwrite (409), builds the new one from
// it (nil on create) and stores it at the revision it read, so that a
// concurrent change answers 409 instead of being lost.
func putEntity[T any](ctx context.Context, st store.Store, ns string, c store.Collection, name string, overwrite bool, build func(existing *T) (*T, error)) (*T, error) {
	existing, rev, err := store.GetDoc[T](ctx, st, ns, c, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		existing = nil
	case err != nil:
		return nil, err
	case !overwrite:
		return nil, newError(http.StatusConflict, msgExists)
	}
	v, err := build(existing)
	if err != nil {
		return nil, err
	}
	if _, err := store.PutDoc(ctx, st, ns, c, name, rev, v); err != nil {
		if errors.Is(err, store.ErrConflict) && existing == nil {
			return nil, newError(http.StatusConflict, msgExists)
		}
		return nil, err
	}
	return v, nil
}
