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

// The writer lets records gather before a write, so that one durable
// transaction (an fsync) carries many. How long depends on who waits:
//
//   - patientWindow while only records nobody blocks on are queued
//     (PutActivations, and BeginWrite, whose caller answers its client
//     first and waits for the write off its hot path). Each commit costs
//     every activation running beside it (on a 2-vCPU VM a bolt commit's
//     two fdatasyncs added ~200 µs p50 to a warm invoke at one commit per
//     2 ms, ~20 µs at one per 20 ms), so commits are kept rare.
//   - urgentWindow once a WriteActivations caller is blocked on its write
//     (a fire's trigger record, a feed event leaving its outbox): the
//     write then starts at most this long after that caller came, and
//     carries everything queued.
//
// Whatever the window, fullBatch queued records are written at once: under
// load the fsync is shared anyway, and the callers waiting on a record
// (an invoker's workers ack their invocations only after it) are not
// held for the window.
const (
	patientWindow = 20 * time.Millisecond
	urgentWindow  = 2 * time.Millisecond
	fullBatch     = 64
)

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
	// urgent (buffered(1)) says a queued record has a WriteActivations
	// caller blocked on it; full (buffered(1)) that fullBatch records are
	// queued. drain clears both with the records it takes.
	urgent chan struct{}
	full   chan struct{}
	// patient and hurried are patientWindow and urgentWindow (a test sets
	// its own).
	patient, hurried time.Duration
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
	return newStore(s, log, patientWindow, urgentWindow)
}

func newStore(s store.Store, log *slog.Logger, patient, hurried time.Duration) *Store {
	w := &Store{Store: s, log: log, pending: map[string]*entity.Activation{}, waiters: map[*entity.Activation]chan error{}, wake: make(chan struct{}, 1), written: make(chan struct{}), done: make(chan struct{}), closing: make(chan struct{}),
		urgent: make(chan struct{}, 1), full: make(chan struct{}, 1), patient: patient, hurried: hurried}
	go w.writer()
	return w
}

// PutActivations queues the records and returns at once.
func (w *Store) PutActivations(_ context.Context, acts []*entity.Activation) error {
	return w.enqueue(acts, nil, false)
}

// WriteActivations queues the records and returns once they are written:
// the caller's records share their write with everyone else's (group
// commit), and the caller learns whether the write succeeded. The write
// starts within urgentWindow.
func (w *Store) WriteActivations(ctx context.Context, acts []*entity.Activation) error {
	wait, err := w.beginWrite(acts, true)
	if err != nil {
		return err
	}
	return wait(ctx)
}

// BeginWrite queues the records, which reads see from now on, and returns
// a wait that blocks until they are written (WriteActivations in two
// steps: the invoker answers a blocking caller in between, so the caller's
// next read finds the record, yet no fsync delays the answer). The write
// may wait up to patientWindow for company: the caller waits off its hot
// path.
func (w *Store) BeginWrite(_ context.Context, acts []*entity.Activation) (wait func(context.Context) error, err error) {
	return w.beginWrite(acts, false)
}

func (w *Store) beginWrite(acts []*entity.Activation, urgent bool) (wait func(context.Context) error, err error) {
	done := make(chan error, len(acts))
	if len(acts) > 0 {
		if err := w.enqueue(acts, done, urgent); err != nil {
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

func (w *Store) enqueue(acts []*entity.Activation, done chan error, urgent bool) error {
	observe, err := w.enqueueLocked(acts, done, urgent)
	if err == nil && observe != nil {
		observe(acts)
	}
	return err
}

func (w *Store) enqueueLocked(acts []*entity.Activation, done chan error, urgent bool) (func([]*entity.Activation), error) {
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
	if urgent {
		signal(w.urgent)
	}
	if len(w.queue) >= fullBatch {
		signal(w.full)
	}
	signal(w.wake)
	return w.observe, nil
}

func (w *Store) writer() {
	defer close(w.done)
	linger := time.NewTimer(0)
	<-linger.C
	for range w.wake {
		w.linger(linger)
		w.drain()
	}
	w.drain()
}

// signal sends on c, buffered(1), unless a signal is pending already.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// unsignal takes a pending signal off c.
func unsignal(c chan struct{}) {
	select {
	case <-c:
	default:
	}
}

// linger is the group commit's wait: patient while nobody blocks on a
// queued record, cut to urgentWindow from when somebody does, and over
// once fullBatch records are queued. Close ends it.
func (w *Store) linger(t *time.Timer) {
	deadline := time.Now().Add(w.patient)
	t.Reset(w.patient)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			return
		case <-w.closing:
			return
		case <-w.full:
			return
		case <-w.urgent:
			if soon := time.Now().Add(w.hurried); soon.Before(deadline) {
				deadline = soon
				t.Stop()
				t.Reset(w.hurried)
			}
		}
	}
}

// drain writes batches until the queue is empty.
func (w *Store) drain() {
	for {
		w.mu.Lock()
		n := min(len(w.queue), maxBatch)
		batch := append([]*entity.Activation(nil), w.queue[:n]...)
		w.queue = w.queue[n:]
		// Their signals go with them (drain goes on until the queue is
		// empty); a record queued from now on signals anew.
		unsignal(w.urgent)
		unsignal(w.full)
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
