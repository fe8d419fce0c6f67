package bolt

import (
	"encoding/json"
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
	// Without a projection List checks the documents itself; with one
	// (which decodes them, as the action lists' does) it leaves that to
	// the projection: the same records are skipped either way.
	decode := func(doc []byte) ([]byte, error) {
		var v map[string]any
		if err := json.Unmarshal(doc, &v); err != nil {
			return nil, err
		}
		return json.Marshal(v)
	}
	for i, opts := range []store.ListOptions{{}, {Project: decode}} {
		recs, err := s.List(t.Context(), "ns", store.Actions, opts)
		if err != nil {
			t.Fatalf("List with undecodable records: %v", err)
		}
		var got []string
		for _, r := range recs {
			got = append(got, r.Name)
		}
		if want := []string{"a", "d"}; !slices.Equal(got, want) {
			t.Fatalf("List (projected: %v) = %q, want %q", opts.Project != nil, got, want)
		}
		if n, want := s.Undecodable(), int64(2*(i+1)); n != want {
			t.Errorf("Undecodable = %d after list %d, want %d", n, i+1, want)
		}
	}
}
