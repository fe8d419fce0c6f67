package writebehind

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/store/bolt"
	"github.com/wispio/wisp/store/storetest"
)

// gatedStore holds every PutActivations until the gate opens, so a test can
// observe records that are queued but not yet written.
type gatedStore struct {
	store.Store
	gate  chan struct{}
	mu    sync.Mutex
	calls int
}

func (g *gatedStore) PutActivations(ctx context.Context, acts []*entity.Activation) error {
	<-g.gate
	g.mu.Lock()
	g.calls++
	g.mu.Unlock()
	return g.Store.PutActivations(ctx, acts)
}

func newStores(t *testing.T) (*Store, *gatedStore) {
	t.Helper()
	inner, err := bolt.Open(filepath.Join(t.TempDir(), "wisp.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	g := &gatedStore{Store: inner, gate: make(chan struct{})}
	return New(g, slog.New(slog.NewTextHandler(io.Discard, nil))), g
}

func act(ns, name string, start int64) *entity.Activation {
	return &entity.Activation{ActivationID: entity.NewActivationID(), Namespace: ns, Name: name, Start: start, Logs: []string{}}
}

func TestQueuedRecordsAreReadable(t *testing.T) {
	w, g := newStores(t)
	ctx := context.Background()
	a, b, other := act("ns", "a", 10), act("ns", "b", 20), act("other", "a", 30)
	if err := w.PutActivations(ctx, []*entity.Activation{a, b, other}); err != nil {
		t.Fatal(err)
	}
	got, err := w.GetActivation(ctx, "ns", a.ActivationID)
	if err != nil || got.ActivationID != a.ActivationID {
		t.Fatalf("queued record: %v %v", got, err)
	}
	if _, err := w.GetActivation(ctx, "ns", other.ActivationID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another namespace's queued record: %v", err)
	}
	list, err := w.ListActivations(ctx, "ns", store.ActivationFilter{Limit: 10})
	if err != nil || len(list) != 2 || list[0] != b || list[1] != a {
		t.Fatalf("list = %v %v", list, err)
	}
	list, _ = w.ListActivations(ctx, "ns", store.ActivationFilter{Name: "a"})
	if len(list) != 1 || list[0] != a {
		t.Fatalf("list by name = %v", list)
	}
	close(g.gate)
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Store.GetActivation(ctx, "ns", a.ActivationID); err != nil {
		t.Fatalf("record not written after Flush: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestMergesQueuedAndStoredPages(t *testing.T) {
	w, g := newStores(t)
	close(g.gate)
	ctx := context.Background()
	var stored []*entity.Activation
	for i := range 5 {
		stored = append(stored, act("ns", "a", int64(i*10)))
	}
	_ = w.PutActivations(ctx, stored)
	_ = w.Flush(ctx)
	g.gate = make(chan struct{}) // hold the next writes
	queued := act("ns", "a", 25)
	_ = w.PutActivations(ctx, []*entity.Activation{queued})
	list, err := w.ListActivations(ctx, "ns", store.ActivationFilter{Skip: 1, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	var starts []int64
	for _, a := range list {
		starts = append(starts, a.Start)
	}
	if fmt.Sprint(starts) != "[30 25 20]" {
		t.Fatalf("page = %v, want [30 25 20]", starts)
	}
	close(g.gate)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCloseWritesEverything(t *testing.T) {
	dir := t.TempDir()
	inner, err := bolt.Open(filepath.Join(dir, "wisp.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	w := New(inner, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var ids []string
	for i := range 1000 {
		a := act("ns", "a", int64(i))
		ids = append(ids, a.ActivationID)
		if err := w.PutActivations(context.Background(), []*entity.Activation{a}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.PutActivations(context.Background(), []*entity.Activation{act("ns", "a", 1)}); err == nil {
		t.Fatal("put after Close was accepted")
	}
	reopened, err := bolt.Open(filepath.Join(dir, "wisp.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	for _, id := range ids {
		if _, err := reopened.GetActivation(context.Background(), "ns", id); err != nil {
			t.Fatalf("activation %s lost at Close: %v", id, err)
		}
	}
}

// TestConformance runs the store suite through the decorator: reads must see
// every write at once, whether it is still queued or already stored.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		inner, err := bolt.Open(filepath.Join(t.TempDir(), "wisp.db"), bolt.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		w := New(inner, slog.New(slog.NewTextHandler(io.Discard, nil)))
		t.Cleanup(func() { _ = w.Close() })
		return w
	})
}

// failingStore fails every write of activations.
type failingStore struct{ store.Store }

func (failingStore) PutActivations(context.Context, []*entity.Activation) error {
	return errors.New("disk full")
}

func TestWriteActivationsWaitsForItsWrite(t *testing.T) {
	w, g := newStores(t)
	defer w.Close()
	a := act("ns", "a", 1)
	done := make(chan error, 1)
	go func() { done <- w.WriteActivations(context.Background(), []*entity.Activation{a}) }()
	// A queued record is readable before the write, but the writer waits.
	for {
		if _, err := w.GetActivation(context.Background(), "ns", a.ActivationID); err == nil {
			break
		}
	}
	select {
	case err := <-done:
		t.Fatalf("WriteActivations returned %v before the store wrote the record", err)
	default:
	}
	close(g.gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := g.Store.GetActivation(context.Background(), "ns", a.ActivationID); err != nil {
		t.Fatalf("WriteActivations returned before the record was stored: %v", err)
	}
}

func TestWriteActivationsReportsAFailedWrite(t *testing.T) {
	inner, err := bolt.Open(filepath.Join(t.TempDir(), "wisp.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	w := New(failingStore{inner}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer w.Close()
	err = w.WriteActivations(context.Background(), []*entity.Activation{act("ns", "a", 1), act("ns", "b", 2)})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v, want the store's failure", err)
	}
}

// TestBeginWrite: the record is readable as soon as BeginWrite returns,
// and its wait ends only once the record is written.
func TestBeginWrite(t *testing.T) {
	w, g := newStores(t)
	ctx := context.Background()
	a := act("ns", "a", 10)
	wait, err := w.BeginWrite(ctx, []*entity.Activation{a})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := w.GetActivation(ctx, "ns", a.ActivationID); err != nil || got.ActivationID != a.ActivationID {
		t.Fatalf("record not readable after BeginWrite: %v %v", got, err)
	}
	waited := make(chan error, 1)
	go func() { waited <- wait(ctx) }()
	select {
	case err := <-waited:
		t.Fatalf("wait returned (%v) before the write", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(g.gate)
	if err := <-waited; err != nil {
		t.Fatal(err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.calls == 0 {
		t.Fatal("wait returned but nothing was written")
	}
}

// TestObserveSeesRecordsAsQueued: the observer (the live activation
// stream) sees each record when it is queued, by every way of writing,
// while the store below has not written it yet.
func TestObserveSeesRecordsAsQueued(t *testing.T) {
	w, g := newStores(t)
	ctx := context.Background()
	var seen []string
	w.Observe(func(acts []*entity.Activation) {
		for _, a := range acts {
			seen = append(seen, a.Name)
		}
	})
	if err := w.PutActivations(ctx, []*entity.Activation{act("ns", "put", 1)}); err != nil {
		t.Fatal(err)
	}
	wait, err := w.BeginWrite(ctx, []*entity.Activation{act("ns", "begin", 2)})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"put", "begin"}; !slices.Equal(seen, want) {
		t.Errorf("observed %q before any write, want %q", seen, want)
	}
	close(g.gate)
	if err := wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteActivations(ctx, []*entity.Activation{act("ns", "write", 3)}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"put", "begin", "write"}; !slices.Equal(seen, want) {
		t.Errorf("observed %q, want %q", seen, want)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.PutActivations(ctx, []*entity.Activation{act("ns", "closed", 4)}); err == nil || len(seen) != 3 {
		t.Errorf("after Close: err %v, observed %q; want an error and nothing observed", err, seen)
	}
}

// newWindowed is a Store over a bolt store with the group commit windows
// given, closed when the test ends; it returns the bolt store too.
func newWindowed(t *testing.T, patient, hurried time.Duration) (*Store, store.Store) {
	t.Helper()
	inner, err := bolt.Open(filepath.Join(t.TempDir(), "wisp.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	w := newStore(inner, slog.New(slog.NewTextHandler(io.Discard, nil)), patient, hurried)
	t.Cleanup(func() { w.Close() })
	return w, inner
}

// TestUrgentWriteCutsTheWait: records nobody blocks on wait out the
// patient window (an hour here); a WriteActivations caller, alone or
// coming while they wait, has everything queued written at once.
func TestUrgentWriteCutsTheWait(t *testing.T) {
	for _, tc := range []struct {
		name    string
		patient bool // patient records are queued before the urgent one
	}{
		{"urgent alone", false},
		{"urgent while patient records wait", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, inner := newWindowed(t, time.Hour, time.Millisecond)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			urgent := act("ns", "urgent", 3)
			all := []*entity.Activation{urgent}
			wait := func(context.Context) error { return nil }
			if tc.patient {
				begun, put := act("ns", "begun", 1), act("ns", "put", 2)
				all = append(all, begun, put)
				var err error
				if wait, err = w.BeginWrite(ctx, []*entity.Activation{begun}); err != nil {
					t.Fatal(err)
				}
				if err := w.PutActivations(ctx, []*entity.Activation{put}); err != nil {
					t.Fatal(err)
				}
				time.Sleep(50 * time.Millisecond)
				if _, err := inner.GetActivation(ctx, "ns", begun.ActivationID); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("a patient record was written before its window ended (err %v)", err)
				}
			}
			if err := w.WriteActivations(ctx, []*entity.Activation{urgent}); err != nil {
				t.Fatalf("urgent write: %v (it waited for the patient window)", err)
			}
			if err := wait(ctx); err != nil {
				t.Fatalf("patient write: %v", err)
			}
			for _, a := range all {
				if _, err := inner.GetActivation(ctx, "ns", a.ActivationID); err != nil {
					t.Fatalf("%s not written: %v", a.Name, err)
				}
			}
		})
	}
}

// TestFullBatchIsWrittenAtOnce: fullBatch queued records are written
// without waiting out the patient window (an hour here), and one record
// fewer is not.
func TestFullBatchIsWrittenAtOnce(t *testing.T) {
	w, inner := newWindowed(t, time.Hour, time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var waits []func(context.Context) error
	for i := range fullBatch {
		wait, err := w.BeginWrite(ctx, []*entity.Activation{act("ns", fmt.Sprint("a", i), int64(i))})
		if err != nil {
			t.Fatal(err)
		}
		waits = append(waits, wait)
		if i == fullBatch-2 {
			time.Sleep(50 * time.Millisecond)
			if list, _ := inner.ListActivations(ctx, "ns", store.ActivationFilter{}); len(list) != 0 {
				t.Fatalf("%d records written before the batch was full", len(list))
			}
		}
	}
	for _, wait := range waits {
		if err := wait(ctx); err != nil {
			t.Fatalf("a full batch was not written: %v", err)
		}
	}
}
