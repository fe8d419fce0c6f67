package storetest

import (
	"cmp"
	"math"
	"slices"
	"testing"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
)

func testListActivations(t *testing.T, open opener) {
	t.Run("NewestFirst", func(t *testing.T) {
		s := open(t)
		// Put out of order and in two calls; equal starts come out by id
		// descending (the order store/writebehind merges in).
		mustPutActs(t, s, act("ns", "a", 2000, 3), act("ns", "a", 1000, 2))
		mustPutActs(t, s, act("ns", "a", 2000, 5), act("ns", "a", 3000, 1), act("ns", "a", 2000, 4))
		got, err := s.ListActivations(t.Context(), "ns", store.ActivationFilter{})
		if err != nil {
			t.Fatal(err)
		}
		want := ids([]*entity.Activation{act("", "", 0, 1), act("", "", 0, 5), act("", "", 0, 4), act("", "", 0, 3), act("", "", 0, 2)})
		if !slices.Equal(ids(got), want) {
			t.Fatalf("order %q, want %q", ids(got), want)
		}
		checkActivation(t, got[0], act("ns", "a", 3000, 1))
	})

	s := open(t)
	all := activationSet()
	for batch := range slices.Chunk(all, 7) {
		mustPutActs(t, s, batch...)
	}
	tests := []struct {
		name string
		ns   string
		f    store.ActivationFilter
	}{
		{"All", "ns", store.ActivationFilter{}},
		{"Name", "ns", store.ActivationFilter{Name: "a"}},
		{"NameInPackage", "ns", store.ActivationFilter{Name: "pkg/a"}},
		{"NamePrefixIsNotAMatch", "ns", store.ActivationFilter{Name: "pkg"}},
		{"NameMissing", "ns", store.ActivationFilter{Name: "missing"}},
		{"Since", "ns", store.ActivationFilter{Since: 1500}},
		{"SinceExact", "ns", store.ActivationFilter{Since: 1400}},
		{"Upto", "ns", store.ActivationFilter{Upto: 1500}},
		{"UptoExact", "ns", store.ActivationFilter{Upto: 1400}},
		{"UptoMax", "ns", store.ActivationFilter{Upto: math.MaxInt64}},
		{"SinceUpto", "ns", store.ActivationFilter{Since: 1300, Upto: 1700}},
		{"SinceIsUpto", "ns", store.ActivationFilter{Since: 1200, Upto: 1200}},
		{"SinceAfterUpto", "ns", store.ActivationFilter{Since: 1700, Upto: 1300}},
		{"SinceAfterAll", "ns", store.ActivationFilter{Since: 99999}},
		{"Skip", "ns", store.ActivationFilter{Skip: 5}},
		{"Limit", "ns", store.ActivationFilter{Limit: 7}},
		{"SkipLimit", "ns", store.ActivationFilter{Skip: 5, Limit: 7}},
		{"SkipPastEnd", "ns", store.ActivationFilter{Skip: 1000}},
		{"LimitPastEnd", "ns", store.ActivationFilter{Limit: 1000}},
		{"NameSinceUptoSkipLimit", "ns", store.ActivationFilter{Name: "a", Since: 1100, Upto: 1800, Skip: 1, Limit: 2}},
		{"NameLimit", "ns", store.ActivationFilter{Name: "b", Limit: 1}},
		{"PrefixNamespace", "n", store.ActivationFilter{}},
		{"ExtendedNamespace", "ns2", store.ActivationFilter{}},
		{"ExtendedNamespaceByName", "ns2", store.ActivationFilter{Name: "a"}},
		{"EmptyNamespace", "nobody", store.ActivationFilter{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ListActivations(t.Context(), tt.ns, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			want := filterActivations(all, tt.ns, tt.f)
			if !slices.Equal(ids(got), ids(want)) {
				t.Fatalf("ListActivations(%s, %+v) = %q, want %q", tt.ns, tt.f, ids(got), ids(want))
			}
			for i := range got {
				checkActivation(t, got[i], want[i])
			}
		})
	}
	t.Run("PagesJoinUp", func(t *testing.T) {
		for _, f := range []store.ActivationFilter{{}, {Name: "a"}, {Since: 1200, Upto: 1800}} {
			whole, err := s.ListActivations(t.Context(), "ns", f)
			if err != nil {
				t.Fatal(err)
			}
			var paged []*entity.Activation
			page := f
			page.Limit = 4
			// One page more than needed: a store that ignores Skip must
			// not loop forever.
			for range len(whole)/page.Limit + 2 {
				got, err := s.ListActivations(t.Context(), "ns", page)
				if err != nil {
					t.Fatal(err)
				}
				paged = append(paged, got...)
				if len(got) < page.Limit {
					break
				}
				page.Skip += page.Limit
			}
			if !slices.Equal(ids(paged), ids(whole)) {
				t.Errorf("pages of 4 of %+v join up to %q, want %q", f, ids(paged), ids(whole))
			}
		}
	})
}

// activationSet returns records of three names in "ns" with repeated start
// times and ids unrelated to put order, plus records in the namespaces "n"
// and "ns2" that a key layout without separators would mix into "ns".
func activationSet() []*entity.Activation {
	names := []string{"a", "b", "pkg/a"}
	var out []*entity.Activation
	for i := range 30 {
		start := int64(1000 + (i*7%10)*100)
		out = append(out, act("ns", names[i%3], start, (i*13)%31+1))
	}
	for i := range 4 {
		out = append(out, act("n", "a", int64(1000+i*100), 100+i))
		out = append(out, act("ns2", "a", int64(1000+i*100), 200+i))
	}
	return out
}

// filterActivations is the reference ListActivations: filter, sort newest
// first with ties by id descending, page.
func filterActivations(all []*entity.Activation, ns string, f store.ActivationFilter) []*entity.Activation {
	var out []*entity.Activation
	for _, a := range all {
		if a.Namespace == ns && (f.Name == "" || a.Name == f.Name) &&
			(f.Since == 0 || a.Start >= f.Since) && (f.Upto == 0 || a.Start <= f.Upto) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(x, y *entity.Activation) int {
		return cmp.Or(cmp.Compare(y.Start, x.Start), cmp.Compare(y.ActivationID, x.ActivationID))
	})
	out = out[min(f.Skip, len(out)):]
	if f.Limit > 0 {
		out = out[:min(f.Limit, len(out))]
	}
	return out
}
