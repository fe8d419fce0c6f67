package bolt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/wispio/wisp/store"
)

// TestGroupCommit: entity writes that arrive while a commit is under way
// share the next transaction (one fsync), each write's failure stays its
// own, and every writer returns only after its transaction committed.
func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "wisp.db"), Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Put(ctx, store.Record{Namespace: "ns", Collection: store.FeedEvents, Name: "taken", Doc: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	before := s.writes.Commits()

	// Hold a commit open until the others are queued behind it.
	release, held := make(chan struct{}), make(chan error, 1)
	started := make(chan struct{})
	go func() {
		held <- s.writes.Update(func(*bbolt.Tx) error {
			close(started)
			<-release
			return nil
		})
	}()
	<-started
	const n = 20
	errs := make([]error, n+1)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.Put(ctx, store.Record{Namespace: "ns", Collection: store.FeedEvents, Name: fmt.Sprintf("ev-%d", i), Doc: []byte(`{}`)})
		})
	}
	wg.Go(func() { // conflicts: it exists
		_, errs[n] = s.Put(ctx, store.Record{Namespace: "ns", Collection: store.FeedEvents, Name: "taken", Doc: []byte(`{}`)})
	})
	for queued := 0; queued < n+1; runtime.Gosched() {
		queued = s.writes.Queued()
	}
	close(release)
	wg.Wait()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	for i, err := range errs[:n] {
		if err != nil {
			t.Errorf("put ev-%d: %v", i, err)
		}
		if _, gerr := s.Get(ctx, "ns", store.FeedEvents, fmt.Sprintf("ev-%d", i)); gerr != nil {
			t.Errorf("get ev-%d after its put returned: %v", i, gerr)
		}
	}
	if !errors.Is(errs[n], store.ErrConflict) {
		t.Errorf("put of an existing name = %v, want a conflict", errs[n])
	}
	if got := s.writes.Commits() - before; got != 2 {
		t.Errorf("%d transactions for one held write and %d queued ones, want 2", got, n+1)
	}
}
