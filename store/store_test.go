package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/wispio/wisp/store"
)

// recordStore is a store.Store that serves one record and remembers the
// last Put; other methods are not used here.
type recordStore struct {
	store.Store
	rec    store.Record
	getErr error
	put    *store.Record
}

func (s *recordStore) Get(_ context.Context, ns string, c store.Collection, name string) (store.Record, error) {
	if s.getErr != nil {
		return store.Record{}, s.getErr
	}
	if ns != s.rec.Namespace || c != s.rec.Collection || name != s.rec.Name {
		return store.Record{}, store.ErrNotFound
	}
	return s.rec, nil
}

func (s *recordStore) Put(_ context.Context, rec store.Record) (string, error) {
	s.put = &rec
	return "2-new", nil
}

type doc struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

func TestGetDoc(t *testing.T) {
	tests := []struct {
		name    string
		stored  string
		getErr  error
		lookup  string
		want    *doc
		wantRev string
		wantIs  error // errors.Is target; nil with wantErr means any error
		wantErr bool
	}{
		{name: "Decodes", stored: `{"name":"a","count":3}`, lookup: "a", want: &doc{Name: "a", Count: 3}, wantRev: "1-abc"},
		{name: "NotFound", stored: `{}`, lookup: "b", wantIs: store.ErrNotFound, wantErr: true},
		{name: "StoreError", getErr: errors.New("disk on fire"), lookup: "a", wantErr: true},
		{name: "BadJSON", stored: `{"name":`, lookup: "a", wantErr: true},
		{name: "WrongType", stored: `{"count":"three"}`, lookup: "a", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &recordStore{getErr: tt.getErr, rec: store.Record{
				Namespace: "ns", Collection: store.Actions, Name: "a", Rev: "1-abc", Doc: []byte(tt.stored),
			}}
			got, rev, err := store.GetDoc[doc](t.Context(), s, "ns", store.Actions, tt.lookup)
			if tt.wantErr {
				if err == nil || (tt.wantIs != nil && !errors.Is(err, tt.wantIs)) {
					t.Fatalf("GetDoc error %v, want an error (errors.Is %v)", err, tt.wantIs)
				}
				if tt.wantIs == nil && (errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict)) {
					t.Fatalf("GetDoc error %v passes for a sentinel", err)
				}
				return
			}
			if err != nil || *got != *tt.want || rev != tt.wantRev {
				t.Fatalf("GetDoc = %+v, %q, %v; want %+v, %q", got, rev, err, tt.want, tt.wantRev)
			}
		})
	}
}

func TestPutDoc(t *testing.T) {
	s := &recordStore{}
	rev, err := store.PutDoc(t.Context(), s, "ns", store.Rules, "r", "1-abc", doc{Name: "r", Count: 1})
	if err != nil || rev != "2-new" {
		t.Fatalf("PutDoc = %q, %v", rev, err)
	}
	want := store.Record{Namespace: "ns", Collection: store.Rules, Name: "r", Rev: "1-abc", Doc: []byte(`{"name":"r","count":1}`)}
	if p := s.put; p == nil || p.Namespace != want.Namespace || p.Collection != want.Collection ||
		p.Name != want.Name || p.Rev != want.Rev || string(p.Doc) != string(want.Doc) {
		t.Fatalf("PutDoc stored %+v, want %+v", s.put, want)
	}

	s = &recordStore{}
	if _, err := store.PutDoc(t.Context(), s, "ns", store.Rules, "r", "", make(chan int)); err == nil {
		t.Fatal("PutDoc of an unencodable value succeeded")
	}
	if s.put != nil {
		t.Fatal("PutDoc stored a value it could not encode")
	}
}
