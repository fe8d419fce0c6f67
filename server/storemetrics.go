package server

import (
	"context"
	"errors"
	"time"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/metrics"
	"github.com/wispio/wisp/store"
)

// timedStore is a store whose main calls (entities and activations) are
// timed into the metrics; the subjects' calls pass through.
type timedStore struct {
	store.Store
	metrics *metrics.Metrics
}

func (t timedStore) observe(op string, start time.Time, err error) {
	failed := err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict)
	t.metrics.ObserveStore(op, time.Since(start), failed)
}

func (t timedStore) Get(ctx context.Context, ns string, c store.Collection, name string) (store.Record, error) {
	start := time.Now()
	rec, err := t.Store.Get(ctx, ns, c, name)
	t.observe(metrics.StoreGet, start, err)
	return rec, err
}

func (t timedStore) Put(ctx context.Context, rec store.Record) (string, error) {
	start := time.Now()
	rev, err := t.Store.Put(ctx, rec)
	t.observe(metrics.StorePut, start, err)
	return rev, err
}

func (t timedStore) Delete(ctx context.Context, ns string, c store.Collection, name, rev string) error {
	start := time.Now()
	err := t.Store.Delete(ctx, ns, c, name, rev)
	t.observe(metrics.StoreDelete, start, err)
	return err
}

func (t timedStore) List(ctx context.Context, ns string, c store.Collection, opts store.ListOptions) ([]store.Record, error) {
	start := time.Now()
	recs, err := t.Store.List(ctx, ns, c, opts)
	t.observe(metrics.StoreList, start, err)
	return recs, err
}

func (t timedStore) Count(ctx context.Context, ns string, c store.Collection, prefix string) (int, error) {
	start := time.Now()
	n, err := t.Store.Count(ctx, ns, c, prefix)
	t.observe(metrics.StoreCount, start, err)
	return n, err
}

func (t timedStore) PutActivations(ctx context.Context, acts []*entity.Activation) error {
	start := time.Now()
	err := t.Store.PutActivations(ctx, acts)
	t.observe(metrics.StorePutActivations, start, err)
	return err
}

func (t timedStore) GetActivation(ctx context.Context, ns, id string) (*entity.Activation, error) {
	start := time.Now()
	act, err := t.Store.GetActivation(ctx, ns, id)
	t.observe(metrics.StoreGetActivation, start, err)
	return act, err
}

func (t timedStore) ListActivations(ctx context.Context, ns string, f store.ActivationFilter) ([]*entity.Activation, error) {
	start := time.Now()
	acts, err := t.Store.ListActivations(ctx, ns, f)
	t.observe(metrics.StoreListActivations, start, err)
	return acts, err
}

// DeleteLater passes store.DeleteLater on, timed as a delete (it returns
// before the removal is durable).
func (t timedStore) DeleteLater(ctx context.Context, ns string, c store.Collection, name string) {
	start := time.Now()
	err := store.DeleteLater(ctx, t.Store, ns, c, name)
	t.observe(metrics.StoreDelete, start, err)
}

// CommitLater passes store.CommitLater on.
func (t timedStore) CommitLater(ctx context.Context) error { return store.CommitLater(ctx, t.Store) }

// Undecodable passes the store's count of skipped records on
// (store.SkipCounter); 0 when it keeps none.
func (t timedStore) Undecodable() int64 {
	if c, ok := t.Store.(store.SkipCounter); ok {
		return c.Undecodable()
	}
	return 0
}
