package routing

import (
	"context"
	"strings"
	"testing"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
)

// mapLookup resolves components from a table: a name maps to its
// components (a sequence) or to nil (an atomic action); absent is missing.
func mapLookup(seqs map[string][]string) componentLookup {
	return func(_ context.Context, f entity.FQN) (entity.FQN, []string, error) {
		comps, ok := seqs[f.String()]
		if !ok {
			return entity.FQN{}, nil, store.ErrNotFound
		}
		return f, comps, nil
	}
}

func TestCheckSequence(t *testing.T) {
	world := map[string][]string{
		"/ns/a":     nil,
		"/ns/b":     nil,
		"/ns/p/c":   nil,
		"/ns/ab":    {"/ns/a", "/ns/b"},
		"/ns/abab":  {"/ns/ab", "/ns/ab"},
		"/ns/outer": {"/ns/abab", "/ns/seq"}, // refers to the sequence being written
		"/ns/seq":   {"/ns/a"},               // its current (stored) form
	}
	tests := []struct {
		name       string
		components []string
		limit      int
		want       string
	}{
		{"atomic", []string{"/ns/a", "/ns/p/c"}, 50, ""},
		{"nested", []string{"/ns/abab", "/ns/ab"}, 6, ""},
		{"nested over the limit", []string{"/ns/abab", "/ns/ab", "/ns/a"}, 6, "Too many actions in the sequence."},
		{"over the limit directly", []string{"/ns/a", "/ns/a", "/ns/a"}, 2, "Too many actions in the sequence."},
		{"itself", []string{"/ns/a", "/ns/seq"}, 50, "Sequence may not refer to itself."},
		{"itself, nested", []string{"/ns/outer"}, 50, "Sequence may not refer to itself."},
		{"missing", []string{"/ns/a", "/ns/zzz"}, 50, "Sequence component does not exist."},
		{"relative name", []string{"a"}, 50, ""},
		{"bad name", []string{"/x"}, 50, "exec.components:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkSequence(context.Background(), mapLookup(world), entity.FQN{Namespace: "ns", Name: "seq"}, tt.components, tt.limit)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if _, ok := entity.AsFieldError(err); !ok || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want a field error with %q", err, tt.want)
			}
		})
	}
}

func TestCheckSequenceStopsOnStoredCycles(t *testing.T) {
	// A cycle that validation should have prevented still terminates.
	world := map[string][]string{"/ns/x": {"/ns/y"}, "/ns/y": {"/ns/x"}}
	err := checkSequence(context.Background(), mapLookup(world), entity.FQN{Namespace: "ns", Name: "new"}, []string{"/ns/x"}, 50)
	if err == nil || !strings.Contains(err.Error(), "may not refer to itself") {
		t.Fatalf("err = %v", err)
	}
}
