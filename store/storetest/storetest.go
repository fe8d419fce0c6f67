package storetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/wispio/wisp/store"
)

// Run runs the suite. open returns a fresh, empty store for each subtest;
// the suite closes it when the subtest ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	fresh := func(t *testing.T) store.Store {
		t.Helper()
		s := open(t)
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	}
	t.Run("Entities", func(t *testing.T) { testEntities(t, fresh) })
	t.Run("List", func(t *testing.T) { testList(t, fresh) })
	t.Run("Activations", func(t *testing.T) { testActivations(t, fresh) })
	t.Run("ListActivations", func(t *testing.T) { testListActivations(t, fresh) })
	t.Run("Undecodable", func(t *testing.T) { testUndecodable(t, fresh) })
	t.Run("Subjects", func(t *testing.T) { testSubjects(t, fresh) })
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, fresh) })
}

// opener is Run's fresh-store function as the test groups receive it.
type opener func(t *testing.T) store.Store

func testEntities(t *testing.T, open opener) {
	t.Run("GetMissing", func(t *testing.T) {
		s := open(t)
		_, err := s.Get(t.Context(), "ns", store.Actions, "nope")
		wantErr(t, "Get of a missing entity", err, store.ErrNotFound)
	})
	t.Run("CreateAndGet", func(t *testing.T) {
		s := open(t)
		for _, name := range []string{"a", "pkg/a", "with space", "ünïcode"} {
			rev := mustPut(t, s, rec("ns", store.Actions, name, "", `{"v":1}`))
			if rev == "" {
				t.Fatalf("Put of %q returned an empty revision", name)
			}
			got := mustGet(t, s, "ns", store.Actions, name)
			want := rec("ns", store.Actions, name, rev, `{"v":1}`)
			checkRecord(t, got, want)
		}
	})
	t.Run("CreateTaken", func(t *testing.T) {
		s := open(t)
		rev := mustPut(t, s, rec("ns", store.Actions, "a", "", `{"v":1}`))
		_, err := s.Put(t.Context(), rec("ns", store.Actions, "a", "", `{"v":2}`))
		wantErr(t, "create of a taken name", err, store.ErrConflict)
		checkRecord(t, mustGet(t, s, "ns", store.Actions, "a"), rec("ns", store.Actions, "a", rev, `{"v":1}`))
	})
	t.Run("Update", testUpdate(open))
	t.Run("RevisionsAreNeverReused", func(t *testing.T) {
		s := open(t)
		seen := map[string]bool{}
		rev := ""
		for i := range 3 {
			rev = mustPut(t, s, rec("ns", store.Actions, "a", rev, `{"v":1}`))
			if seen[rev] {
				t.Fatalf("update %d returned the used revision %q", i, rev)
			}
			seen[rev] = true
		}
		if err := s.Delete(t.Context(), "ns", store.Actions, "a", ""); err != nil {
			t.Fatal(err)
		}
		again := mustPut(t, s, rec("ns", store.Actions, "a", "", `{"v":1}`))
		if seen[again] {
			t.Fatalf("re-create after delete returned the used revision %q", again)
		}
		_, err := s.Put(t.Context(), rec("ns", store.Actions, "a", rev, `{"v":2}`))
		wantErr(t, "update with a revision from before the delete", err, store.ErrConflict)
	})
	t.Run("Delete", testDelete(open))
	t.Run("CollectionsAreSeparate", func(t *testing.T) {
		s := open(t)
		mustPut(t, s, rec("ns", store.Actions, "x", "", `{"c":"actions"}`))
		mustPut(t, s, rec("ns", store.Triggers, "x", "", `{"c":"triggers"}`))
		if err := s.Delete(t.Context(), "ns", store.Actions, "x", ""); err != nil {
			t.Fatal(err)
		}
		got := mustGet(t, s, "ns", store.Triggers, "x")
		checkDoc(t, got.Doc, `{"c":"triggers"}`)
		for _, c := range []store.Collection{store.Rules, store.Packages} {
			_, err := s.Get(t.Context(), "ns", c, "x")
			wantErr(t, "Get in an unused collection", err, store.ErrNotFound)
		}
	})
	t.Run("NamespacesAreIsolated", func(t *testing.T) {
		s := open(t)
		// "ns" is a prefix of "ns2": a key layout that forgets a separator
		// mixes them up.
		nss := []string{"alice", "bob", "ns", "ns2"}
		for _, ns := range nss {
			mustPut(t, s, rec(ns, store.Actions, "same", "", fmt.Sprintf(`{"ns":%q}`, ns)))
		}
		if err := s.Delete(t.Context(), "bob", store.Actions, "same", ""); err != nil {
			t.Fatal(err)
		}
		for _, ns := range []string{"alice", "ns", "ns2"} {
			checkDoc(t, mustGet(t, s, ns, store.Actions, "same").Doc, fmt.Sprintf(`{"ns":%q}`, ns))
			list, err := s.List(t.Context(), ns, store.Actions, store.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 1 || list[0].Namespace != ns {
				t.Errorf("List(%s) = %v, want its one record", ns, names(list))
			}
		}
		_, err := s.Get(t.Context(), "bob", store.Actions, "same")
		wantErr(t, "Get after Delete in the other namespace", err, store.ErrNotFound)
	})
}

func testUpdate(open opener) func(t *testing.T) {
	return func(t *testing.T) {
		tests := []struct {
			name string
			// rev picks the revision to update with from the first and
			// second revisions of "a"; gone deletes "a" first.
			rev  func(first, second string) string
			gone bool
			want error
		}{
			{name: "CurrentRev", rev: func(_, second string) string { return second }},
			{name: "StaleRev", rev: func(first, _ string) string { return first }, want: store.ErrConflict},
			{name: "UnknownRev", rev: func(string, string) string { return "9-ffff" }, want: store.ErrConflict},
			{name: "Deleted", rev: func(_, second string) string { return second }, gone: true, want: store.ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := open(t)
				first := mustPut(t, s, rec("ns", store.Actions, "a", "", `{"v":1}`))
				second := mustPut(t, s, rec("ns", store.Actions, "a", first, `{"v":2}`))
				if first == second {
					t.Fatalf("update kept the revision %q", first)
				}
				if tt.gone {
					if err := s.Delete(t.Context(), "ns", store.Actions, "a", second); err != nil {
						t.Fatal(err)
					}
				}
				rev, err := s.Put(t.Context(), rec("ns", store.Actions, "a", tt.rev(first, second), `{"v":3}`))
				wantErr(t, "Put", err, tt.want)
				switch {
				case tt.gone:
					_, err := s.Get(t.Context(), "ns", store.Actions, "a")
					wantErr(t, "Get after a failed update of a deleted entity", err, store.ErrNotFound)
				case tt.want != nil:
					checkRecord(t, mustGet(t, s, "ns", store.Actions, "a"), rec("ns", store.Actions, "a", second, `{"v":2}`))
				default:
					if rev == second || rev == "" {
						t.Errorf("update returned revision %q after %q", rev, second)
					}
					checkRecord(t, mustGet(t, s, "ns", store.Actions, "a"), rec("ns", store.Actions, "a", rev, `{"v":3}`))
				}
			})
		}
		t.Run("MissingWithRev", func(t *testing.T) {
			s := open(t)
			_, err := s.Put(t.Context(), rec("ns", store.Actions, "never", "1-abc", `{}`))
			wantErr(t, "update of an entity never created", err, store.ErrNotFound)
		})
	}
}

func testDelete(open opener) func(t *testing.T) {
	return func(t *testing.T) {
		tests := []struct {
			name    string
			rev     func(first, second string) string
			missing bool // delete a name never created
			want    error
		}{
			{name: "CurrentRev", rev: func(_, second string) string { return second }},
			{name: "AnyRev", rev: func(string, string) string { return "" }},
			{name: "StaleRev", rev: func(first, _ string) string { return first }, want: store.ErrConflict},
			{name: "Missing", rev: func(string, string) string { return "" }, missing: true, want: store.ErrNotFound},
			{name: "MissingWithRev", rev: func(_, second string) string { return second }, missing: true, want: store.ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := open(t)
				first := mustPut(t, s, rec("ns", store.Actions, "a", "", `{"v":1}`))
				second := mustPut(t, s, rec("ns", store.Actions, "a", first, `{"v":2}`))
				name := "a"
				if tt.missing {
					name = "b"
				}
				err := s.Delete(t.Context(), "ns", store.Actions, name, tt.rev(first, second))
				wantErr(t, "Delete", err, tt.want)
				_, err = s.Get(t.Context(), "ns", store.Actions, "a")
				if tt.want == nil {
					wantErr(t, "Get after Delete", err, store.ErrNotFound)
				} else if err != nil {
					t.Errorf("Get after a failed Delete: %v", err)
				}
			})
		}
	}
}

func rec(ns string, c store.Collection, name, rev, doc string) store.Record {
	return store.Record{Namespace: ns, Collection: c, Name: name, Rev: rev, Doc: json.RawMessage(doc)}
}

func mustPut(t *testing.T, s store.Store, r store.Record) string {
	t.Helper()
	rev, err := s.Put(t.Context(), r)
	if err != nil {
		t.Fatalf("Put %s/%s/%s rev %q: %v", r.Namespace, r.Collection, r.Name, r.Rev, err)
	}
	return rev
}

func mustGet(t *testing.T, s store.Store, ns string, c store.Collection, name string) store.Record {
	t.Helper()
	r, err := s.Get(t.Context(), ns, c, name)
	if err != nil {
		t.Fatalf("Get %s/%s/%s: %v", ns, c, name, err)
	}
	return r
}

// wantErr checks that err is or wraps want (nil: no error).
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("%s: unexpected error %v", what, err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("%s: error %v, want one that errors.Is %v", what, err, want)
	}
}

func checkRecord(t *testing.T, got, want store.Record) {
	t.Helper()
	if got.Namespace != want.Namespace || got.Collection != want.Collection || got.Name != want.Name || got.Rev != want.Rev {
		t.Errorf("record %s/%s/%s rev %q, want %s/%s/%s rev %q",
			got.Namespace, got.Collection, got.Name, got.Rev, want.Namespace, want.Collection, want.Name, want.Rev)
	}
	checkDoc(t, got.Doc, string(want.Doc))
}

// checkDoc compares JSON documents by value: a store may reformat them.
func checkDoc(t *testing.T, got json.RawMessage, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Errorf("doc %s is not JSON: %v", got, err)
		return
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		panic(err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Errorf("doc %s, want %s", got, want)
	}
}

func names(recs []store.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Name
	}
	return out
}
