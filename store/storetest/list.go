package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/wispio/wisp/store"
)

func testList(t *testing.T, open opener) {
	s := open(t)
	// Put out of order; "pkg" and "pkg/..." show that a package's entities
	// sort right after the package's own name and a "pkg/" prefix keeps
	// only them. Other namespaces and collections must not leak in.
	all := []string{"pkg/b", "a", "pkg", "zz", "pkg/a", "pkga", "b", "pkg/c/d"}
	for _, name := range all {
		mustPut(t, s, rec("ns", store.Actions, name, "", `{"n":"`+name+`"}`))
	}
	mustPut(t, s, rec("ns", store.Triggers, "a2", "", `{}`))
	mustPut(t, s, rec("ns2", store.Actions, "a3", "", `{}`))
	mustPut(t, s, rec("n", store.Actions, "a4", "", `{}`))
	sorted := slices.Sorted(slices.Values(all))

	tests := []struct {
		name string
		opts store.ListOptions
		want []string
	}{
		{"All", store.ListOptions{}, sorted},
		{"Prefix", store.ListOptions{Prefix: "pkg/"}, []string{"pkg/a", "pkg/b", "pkg/c/d"}},
		{"PrefixOfNames", store.ListOptions{Prefix: "pkg"}, []string{"pkg", "pkg/a", "pkg/b", "pkg/c/d", "pkga"}},
		{"PrefixNoMatch", store.ListOptions{Prefix: "q"}, nil},
		{"Skip", store.ListOptions{Skip: 6}, sorted[6:]},
		{"Limit", store.ListOptions{Limit: 3}, sorted[:3]},
		{"SkipLimit", store.ListOptions{Skip: 2, Limit: 3}, sorted[2:5]},
		{"LimitPastEnd", store.ListOptions{Skip: 5, Limit: 100}, sorted[5:]},
		{"SkipPastEnd", store.ListOptions{Skip: 100}, nil},
		{"PrefixSkipLimit", store.ListOptions{Prefix: "pkg/", Skip: 1, Limit: 1}, []string{"pkg/b"}},
		{"StartAfter", store.ListOptions{StartAfter: "pkg/a"}, []string{"pkg/b", "pkg/c/d", "pkga", "zz"}},
		{"StartAfterAName", store.ListOptions{StartAfter: "pkg/"}, []string{"pkg/a", "pkg/b", "pkg/c/d", "pkga", "zz"}},
		{"StartAfterLimit", store.ListOptions{StartAfter: "b", Limit: 2}, []string{"pkg", "pkg/a"}},
		{"PrefixStartAfterLimit", store.ListOptions{Prefix: "pkg/", StartAfter: "pkg/a", Limit: 1}, []string{"pkg/b"}},
		{"PrefixStartAfterBefore", store.ListOptions{Prefix: "pkg/", StartAfter: "a"}, []string{"pkg/a", "pkg/b", "pkg/c/d"}},
		{"StartAfterSkip", store.ListOptions{StartAfter: "pkg", Skip: 1}, []string{"pkg/b", "pkg/c/d", "pkga", "zz"}},
		{"StartAfterEnd", store.ListOptions{StartAfter: "zz"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.List(t.Context(), "ns", store.Actions, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(names(got), tt.want) {
				t.Fatalf("List(%+v) = %q, want %q", tt.opts, names(got), tt.want)
			}
			for _, r := range got {
				if r.Namespace != "ns" || r.Collection != store.Actions || r.Rev == "" {
					t.Errorf("listed record %+v lacks its namespace, collection or revision", r)
				}
				checkDoc(t, r.Doc, `{"n":"`+r.Name+`"}`)
			}
		})
	}

	// Project: each document is replaced by its projection; one the
	// projection fails on is skipped, the others are listed.
	t.Run("Project", func(t *testing.T) {
		project := func(doc []byte) ([]byte, error) {
			var v struct{ N string }
			if err := json.Unmarshal(doc, &v); err != nil {
				return nil, err
			}
			if v.N == "pkg/b" {
				return nil, errors.New("not this one")
			}
			return json.Marshal(map[string]int{"len": len(v.N)})
		}
		got, err := s.List(t.Context(), "ns", store.Actions, store.ListOptions{Prefix: "pkg/", Project: project})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"pkg/a", "pkg/c/d"}; !slices.Equal(names(got), want) {
			t.Fatalf("List with a projection = %q, want %q (pkg/b skipped)", names(got), want)
		}
		for _, r := range got {
			checkDoc(t, r.Doc, fmt.Sprintf(`{"len":%d}`, len(r.Name)))
		}
	})

	counts := []struct {
		prefix string
		want   int
	}{{"", len(all)}, {"pkg/", 3}, {"pkg", 5}, {"q", 0}}
	for _, tt := range counts {
		t.Run("Count/"+tt.prefix, func(t *testing.T) {
			n, err := s.Count(t.Context(), "ns", store.Actions, tt.prefix)
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.want {
				t.Fatalf("Count(%q) = %d, want %d", tt.prefix, n, tt.want)
			}
		})
	}

	t.Run("Empty", func(t *testing.T) {
		got, err := s.List(t.Context(), "nobody", store.Rules, store.ListOptions{})
		if err != nil || len(got) != 0 {
			t.Fatalf("List of an empty collection = %v, %v; want nothing", names(got), err)
		}
		n, err := s.Count(t.Context(), "nobody", store.Rules, "")
		if err != nil || n != 0 {
			t.Fatalf("Count of an empty collection = %d, %v; want 0", n, err)
		}
	})
}
