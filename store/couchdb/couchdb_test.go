package couchdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/internal/couch"
	"github.com/wispio/wisp/internal/testenv"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/store/storetest"
)

func TestConformance(t *testing.T) {
	url := testenv.CouchDB(t)
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, url) })
}

// open returns a store in databases of their own, dropped after the test.
func open(t testing.TB, url string) *Store {
	t.Helper()
	prefix := uniquePrefix()
	s, err := Open(t.Context(), url, Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dropDatabases(t, url, prefix) })
	return s
}

// uniquePrefix returns a database name prefix no other test uses.
func uniquePrefix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "wisp_test_" + hex.EncodeToString(b) + "_"
}

func dropDatabases(t testing.TB, url, prefix string) {
	client, err := couch.Connect(url, couch.Options{})
	if err != nil {
		t.Errorf("drop databases: %v", err)
		return
	}
	defer client.Close()
	for _, name := range []string{entitiesDB, activationsDB, subjectsDB} {
		if err := client.DestroyDB(context.Background(), prefix+name); err != nil {
			t.Errorf("drop database %s: %v", prefix+name, err)
		}
	}
}

func TestReopen(t *testing.T) {
	url := testenv.CouchDB(t)
	ctx := t.Context()
	s := open(t, url)
	rev, err := s.Put(ctx, store.Record{Namespace: "ns", Collection: store.Actions, Name: "pkg/a", Doc: []byte(`{"v":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	// An older Wisp left other views: Open rewrites them.
	stale := activationViews
	stale.Views = map[string]view{"by_start": {Map: "function (doc) {}"}}
	if err := ensureDesignDoc(ctx, s.activations, stale); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	prefix := s.entities.Name()[:len(s.entities.Name())-len(entitiesDB)]
	s2, err := Open(ctx, url+"/?prefix="+prefix, Options{}) // the prefix as the URL gives it
	if err != nil {
		t.Fatalf("second Open of the same databases: %v", err)
	}
	defer s2.Close()
	got, err := s2.Get(ctx, "ns", store.Actions, "pkg/a")
	if err != nil || got.Rev != rev {
		t.Fatalf("entity after reopen: %+v, %v; want rev %q", got, err, rev)
	}
	act := &entity.Activation{ActivationID: "0123", Namespace: "ns", Name: "pkg/a", Start: 7, Logs: []string{}}
	if err := s2.PutActivations(ctx, []*entity.Activation{act}); err != nil {
		t.Fatal(err)
	}
	list, err := s2.ListActivations(ctx, "ns", store.ActivationFilter{})
	if err != nil || len(list) != 1 {
		t.Fatalf("activations through the rewritten views: %v, %v", list, err)
	}
}

func TestOpenErrors(t *testing.T) {
	url := testenv.CouchDB(t)
	tests := []struct {
		name, url, want string
	}{
		{"Scheme", "ftp://127.0.0.1:1", `scheme "ftp"`},
		{"NoHost", "http://", "no host"},
		{"Unreachable", "http://127.0.0.1:1", "127.0.0.1:1"},
		{"BadCredentials", strings.Replace(url, "://", "://nobody:s3cret@", 1), "://xxxxx@"},
		{"BadPrefix", url + "/?prefix=Wisp", `prefix "Wisp"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(t.Context(), tt.url, Options{})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("error %q: want it to contain %q and no password", err, tt.want)
			}
			if testing.Verbose() {
				t.Log(err)
			}
		})
	}
}

func TestPrefixEnd(t *testing.T) {
	tests := []struct{ prefix, want string }{
		{"actions/ns/", "actions/ns0"},
		{"pkg", "pkh"},
		{"a\U0010FFFF", "b"},
		{"a\uD7FF", "a\uE000"},
		{"é", "ê"},
	}
	for _, tt := range tests {
		if got := prefixEnd(tt.prefix); got != tt.want {
			t.Errorf("prefixEnd(%q) = %q, want %q", tt.prefix, got, tt.want)
		}
	}
}

func TestRejectsBadKeys(t *testing.T) {
	s := open(t, testenv.CouchDB(t))
	defer s.Close()
	ctx := t.Context()
	for _, r := range []store.Record{
		{Namespace: "", Collection: store.Actions, Name: "a"},
		{Namespace: "ns", Collection: store.Actions, Name: ""},
		{Namespace: "ns", Collection: "", Name: "a"},
		{Namespace: "n/s", Collection: store.Actions, Name: "a"},
	} {
		key := r.Namespace + "|" + string(r.Collection) + "|" + r.Name
		if _, err := s.Put(ctx, store.Record{Namespace: r.Namespace, Collection: r.Collection, Name: r.Name, Doc: []byte(`{}`)}); err == nil {
			t.Errorf("Put %q accepted", key)
		}
		if _, err := s.Get(ctx, r.Namespace, r.Collection, r.Name); err == nil || errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get %q: %v, want a key error", key, err)
		}
	}
	if _, err := s.Put(ctx, store.Record{Namespace: "ns", Collection: store.Actions, Name: "a", Doc: []byte(`{`)}); err == nil {
		t.Error("Put of a document that is not JSON accepted")
	}
	for _, a := range []*entity.Activation{
		{ActivationID: "", Namespace: "ns", Name: "a"},
		{ActivationID: "_design", Namespace: "ns", Name: "a"},
		{ActivationID: "x", Namespace: "", Name: "a"},
	} {
		if err := s.PutActivations(ctx, []*entity.Activation{a}); err == nil {
			t.Errorf("PutActivations of %+v accepted", a)
		}
	}
}
