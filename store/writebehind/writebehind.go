package writebehind

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
)

// maxBatch caps the records written in one store call.
const maxBatch = 256

// groupCommitWindow is how long the writer lets records gather before a
// write: under load one fsync then carries many records instead of one.
const groupCommitWindow = 2 * time.Millisecond

// Store writes activations behind the caller's back; see the package doc.
type Store struct {
	store.Store
	log *slog.Logger

	mu      sync.Mutex // guards pending, queue, waiters and closed
	pending map[string]*entity.Activation
	queue   []*entity.Activation
	// waiters are the callers of Write, by a record of theirs: each
	// learns the outcome of the batch that carried it.
	waiters map[*entity.Activation]chan error
	closed  bool
	wake    chan struct{} // buffered(1): there is work; closed by Close
	written chan struct{} // closed and replaced after each batch
	done    chan struct{} // closed when the writer has exited
	closing chan struct{} // closed by Close: write at once
	// observe, when set, sees every record as it is queued (the live
	// activation stream); it must not block.
	observe func([]*entity.Activation)
}

// Observe makes f see every record from now on, as it is queued (before
// it is written). f runs on the caller's goroutine and must not block.
// Call it before the store is used.
func (w *Store) Observe(f func([]*entity.Activation)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.observe = f
}

// New wraps s and starts the background writer.
func New(s store.Store, log *slog.Logger) *Store {
	w := &Store{Store: s, log: log, pending: map[string]*entity.Activation{}, waiters: map[*entity.Activation]chan error{}, wake: make(chan struct{}, 1), written: make(chan struct{}), done: make(chan struct{}), closing: make(chan struct{})}
	go w.writer()
	return w
}

// PutActivations queues the records and returns at once.
func (w *Store) PutActivations(_ context.Context, acts []*entity.Activation) error {
	return w.enqueue(acts, nil)
}

// WriteActivations queues the records and returns once they are written:
// the caller's records share their write with everyone else's (group
// commit), and the caller learns whether the write succeeded.
func (w *Store) WriteActivations(ctx context.Context, acts []*entity.Activation) error {
	wait, err := w.BeginWrite(ctx, acts)
	if err != nil {
		return err
	}
	return wait(ctx)
}

// BeginWrite queues the records, which reads see from now on, and returns
// a wait that blocks until they are written (WriteActivations in two
// steps: the invoker answers a blocking caller in between, so the caller's
// next read finds the record, yet no fsync delays the answer).
func (w *Store) BeginWrite(_ context.Context, acts []*entity.Activation) (wait func(context.Context) error, err error) {
	done := make(chan error, len(acts))
	if len(acts) > 0 {
		if err := w.enqueue(acts, done); err != nil {
			return nil, err
		}
	}
	return func(ctx context.Context) error {
		var errs []error
		for range acts {
			select {
			case err := <-done:
				if err != nil {
					errs = append(errs, err)
				}
			case <-ctx.Done():
				return fmt.Errorf("write activations: %w", ctx.Err())
			}
		}
		return errors.Join(errs...)
	}, nil
}

func (w *Store) enqueue(acts []*entity.Activation, done chan error) error {
	observe, err := w.enqueueLocked(acts, done)
	if err == nil && observe != nil {
		observe(acts)
	}
	return err
}

func (w *Store) enqueueLocked(acts []*entity.Activation, done chan error) (func([]*entity.Activation), error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, errors.New("write activations: the store is closed")
	}
	for _, a := range acts {
		w.pending[a.ActivationID] = a
		w.queue = append(w.queue, a)
		if done != nil {
			w.waiters[a] = done
		}
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return w.observe, nil
}

func (w *Store) writer() {
	defer close(w.done)
	linger := time.NewTimer(0)
	<-linger.C
	for range w.wake {
		// Group commit: let a few more records arrive so that one durable
		// transaction (an fsync) carries them all. Close ends the wait.
		linger.Reset(groupCommitWindow)
		select {
		case <-linger.C:
		case <-w.closing:
			linger.Stop()
		}
		w.drain()
	}
	w.drain()
}

// drain writes batches until the queue is empty.
func (w *Store) drain() {
	for {
		w.mu.Lock()
		n := min(len(w.queue), maxBatch)
		batch := append([]*entity.Activation(nil), w.queue[:n]...)
		w.queue = w.queue[n:]
		w.mu.Unlock()
		if n == 0 {
			return
		}
		err := w.Store.PutActivations(context.Background(), batch)
		if err != nil {
			w.log.Error("write activations", "count", len(batch), "err", err)
			err = fmt.Errorf("write activations: %w", err)
		}
		w.mu.Lock()
		for _, a := range batch {
			if w.pending[a.ActivationID] == a {
				delete(w.pending, a.ActivationID)
			}
			if done, ok := w.waiters[a]; ok {
				done <- err // buffered for all of its caller's records
				delete(w.waiters, a)
			}
		}
		close(w.written)
		w.written = make(chan struct{})
		w.mu.Unlock()
	}
}

// GetActivation serves a queued record before asking the store.
func (w *Store) GetActivation(ctx context.Context, ns, id string) (*entity.Activation, error) {
	w.mu.Lock()
	a, ok := w.pending[id]
	w.mu.Unlock()
	if ok && a.Namespace == ns {
		return a, nil
	}
	return w.Store.GetActivation(ctx, ns, id)
}

// ListActivations merges queued records into the store's answer.
func (w *Store) ListActivations(ctx context.Context, ns string, f store.ActivationFilter) ([]*entity.Activation, error) {
	w.mu.Lock()
	var extra []*entity.Activation
	for _, a := range w.pending {
		if matches(a, ns, f) {
			extra = append(extra, a)
		}
	}
	w.mu.Unlock()
	if len(extra) == 0 {
		return w.Store.ListActivations(ctx, ns, f)
	}
	inner := f
	inner.Skip = 0
	if f.Limit > 0 {
		inner.Limit = f.Skip + f.Limit
	}
	stored, err := w.Store.ListActivations(ctx, ns, inner)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(extra))
	for _, a := range extra {
		seen[a.ActivationID] = true
	}
	all := extra
	for _, a := range stored {
		if !seen[a.ActivationID] {
			all = append(all, a)
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].Start != all[j].Start {
			return all[i].Start > all[j].Start
		}
		return all[i].ActivationID > all[j].ActivationID
	})
	if f.Skip >= len(all) {
		return []*entity.Activation{}, nil
	}
	all = all[f.Skip:]
	if f.Limit > 0 && len(all) > f.Limit {
		all = all[:f.Limit]
	}
	return all, nil
}

func matches(a *entity.Activation, ns string, f store.ActivationFilter) bool {
	return a.Namespace == ns &&
		(f.Name == "" || a.Name == f.Name) &&
		(f.Since == 0 || a.Start >= f.Since) &&
		(f.Upto == 0 || a.Start <= f.Upto)
}

// Flush waits until every record queued so far is written or ctx ends.
func (w *Store) Flush(ctx context.Context) error {
	for {
		w.mu.Lock()
		n, written := len(w.pending), w.written
		w.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-written:
		}
	}
}

// Close writes what is queued, then closes the wrapped store.
func (w *Store) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	close(w.closing)
	close(w.wake)
	w.mu.Unlock()
	<-w.done
	return w.Store.Close()
}

// Undecodable is the count of records the store below skipped in lists
// (store.SkipCounter); 0 when it keeps none.
func (w *Store) Undecodable() int64 {
	if c, ok := w.Store.(store.SkipCounter); ok {
		return c.Undecodable()
	}
	return 0
}

// DeleteLater passes store.DeleteLater on to the store below (a plain
// Delete, errors logged, when it has none).
func (w *Store) DeleteLater(ctx context.Context, ns string, c store.Collection, name string) {
	if err := store.DeleteLater(ctx, w.Store, ns, c, name); err != nil && !errors.Is(err, store.ErrNotFound) {
		w.log.Error("delete", "namespace", ns, "collection", string(c), "name", name, "err", err)
	}
}

// CommitLater passes store.CommitLater on to the store below.
func (w *Store) CommitLater(ctx context.Context) error { return store.CommitLater(ctx, w.Store) }
