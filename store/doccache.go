package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
)

// DocCache keeps decoded documents of one collection by revision, so that a
// hot entity (an action on the invoke path) is decoded once per change
// instead of once per use. The values are shared: callers must not modify
// them. It holds at most max documents; when full it starts over.
type DocCache[T any] struct {
	store      Store
	collection Collection
	max        int

	mu   sync.RWMutex // guards docs
	docs map[string]cachedDoc[T]
}

type cachedDoc[T any] struct {
	rev string
	doc *T
}

// NewDocCache returns an empty cache over collection c of s.
func NewDocCache[T any](s Store, c Collection, max int) *DocCache[T] {
	return &DocCache[T]{store: s, collection: c, max: max, docs: map[string]cachedDoc[T]{}}
}

// Get reads the entity's current record and returns its decoded document,
// decoding only when the revision changed since the last call.
func (d *DocCache[T]) Get(ctx context.Context, ns, name string) (*T, string, error) {
	rec, err := d.store.Get(ctx, ns, d.collection, name)
	if err != nil {
		return nil, "", err
	}
	key := ns + "\x00" + name
	if doc, ok := d.lookup(key, rec.Rev); ok {
		return doc, rec.Rev, nil
	}
	doc := new(T)
	if err := json.Unmarshal(rec.Doc, doc); err != nil {
		return nil, "", fmt.Errorf("decode %s %s/%s: %w", d.collection, ns, name, err)
	}
	d.mu.Lock()
	if len(d.docs) >= d.max {
		d.docs = map[string]cachedDoc[T]{}
	}
	d.docs[key] = cachedDoc[T]{rev: rec.Rev, doc: doc}
	d.mu.Unlock()
	return doc, rec.Rev, nil
}

// At returns the document at revision rev without reading the store when
// the cache holds it, else the current one (which may be newer).
func (d *DocCache[T]) At(ctx context.Context, ns, name, rev string) (*T, string, error) {
	if doc, ok := d.lookup(ns+"\x00"+name, rev); ok {
		return doc, rev, nil
	}
	return d.Get(ctx, ns, name)
}

func (d *DocCache[T]) lookup(key, rev string) (*T, bool) {
	d.mu.RLock()
	c, ok := d.docs[key]
	d.mu.RUnlock()
	return c.doc, ok && c.rev == rev
}
