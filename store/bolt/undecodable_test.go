package bolt

import (
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/wispio/wisp/store"
)

// TestListSkipsUndecodableEntities: an entity value that is corrupt (its
// revision header runs past its end) or holds a document that is not JSON
// is left out of List, logged and counted, and the other entities answer.
func TestListSkipsUndecodableEntities(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "wisp.db"), Options{NoSync: true, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	for _, name := range []string{"a", "d"} {
		if _, err := s.Put(t.Context(), store.Record{Namespace: "ns", Collection: store.Actions, Name: name, Doc: []byte(`{"v":1}`)}); err != nil {
			t.Fatal(err)
		}
	}
	err = s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketEntities)
		if err := b.Put(appendEntityKey(nil, "ns", store.Actions, "b"), []byte{200, 'x'}); err != nil {
			return err
		}
		return b.Put(appendEntityKey(nil, "ns", store.Actions, "c"), append([]byte{1, 'r'}, `{"v":[`...))
	})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := s.List(t.Context(), "ns", store.Actions, store.ListOptions{})
	if err != nil {
		t.Fatalf("List with undecodable records: %v", err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.Name)
	}
	if want := []string{"a", "d"}; !slices.Equal(got, want) {
		t.Fatalf("List = %q, want %q", got, want)
	}
	if n := s.Undecodable(); n != 2 {
		t.Errorf("Undecodable = %d, want 2", n)
	}
}
