package bolt

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/wispio/wisp/store"
)

// TestDeleteLater: a deferred delete costs no commit of its own when a
// write follows (it rides with it, in order: a create of the same name
// after it succeeds), and one left alone is committed by Close.
func TestDeleteLater(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wisp.db")
	open := func() *Store {
		t.Helper()
		s, err := Open(path, Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	put := func(s *Store, name string) error {
		_, err := s.Put(ctx, store.Record{Namespace: "ns", Collection: store.FeedEvents, Name: name, Doc: []byte(`{}`)})
		return err
	}
	s := open()
	for _, name := range []string{"a", "b", "c"} {
		if err := put(s, name); err != nil {
			t.Fatal(err)
		}
	}
	before := s.writes.Commits()
	s.DeleteLater(ctx, "ns", store.FeedEvents, "a")
	s.DeleteLater(ctx, "ns", store.FeedEvents, "b")
	// Created anew after its deferred delete: no conflict.
	if err := put(s, "b"); err != nil {
		t.Fatalf("create b after DeleteLater(b): %v", err)
	}
	if got := s.writes.Commits() - before; got != 1 {
		t.Errorf("%d commits for two deferred deletes and a put, want 1", got)
	}
	if _, err := s.Get(ctx, "ns", store.FeedEvents, "a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get a after the put that carried its delete: %v, want not found", err)
	}
	s.DeleteLater(ctx, "ns", store.FeedEvents, "c")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open()
	defer s.Close()
	for name, want := range map[string]error{"a": store.ErrNotFound, "b": nil, "c": store.ErrNotFound} {
		if _, err := s.Get(ctx, "ns", store.FeedEvents, name); !errors.Is(err, want) {
			t.Errorf("after reopening, get %s = %v, want %v", name, err, want)
		}
	}
}

// TestCommitLater: CommitLater makes a deferred delete durable at once,
// costs nothing with none waiting, and so is harmless once the store is
// closed (a server whose store went first still stops its feeds cleanly).
func TestCommitLater(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "wisp.db"), Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, store.Record{Namespace: "ns", Collection: store.FeedEvents, Name: "a", Doc: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	before := s.writes.Commits()
	s.DeleteLater(ctx, "ns", store.FeedEvents, "a")
	if err := s.CommitLater(ctx); err != nil {
		t.Fatal(err)
	}
	if got := s.writes.Commits() - before; got != 1 {
		t.Errorf("%d commits for CommitLater of one deferred delete, want 1", got)
	}
	if err := s.CommitLater(ctx); err != nil {
		t.Fatal(err)
	}
	if got := s.writes.Commits() - before; got != 1 {
		t.Errorf("%d commits after a CommitLater with nothing deferred, want still 1", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.CommitLater(ctx); err != nil {
		t.Errorf("CommitLater with nothing deferred on a closed store = %v, want nil", err)
	}
}
