package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
)

// act returns a complete activation record; n makes its id unique.
func act(ns, name string, start int64, n int) *entity.Activation {
	return &entity.Activation{
		ActivationID: fmt.Sprintf("%032x", n),
		Namespace:    ns,
		Name:         name,
		Version:      "0.0.1",
		Subject:      ns,
		Start:        start,
		End:          start + 5,
		Duration:     5,
		Response:     entity.NewResponse(entity.StatusSuccess, json.RawMessage(fmt.Sprintf(`{"n":%d}`, n))),
		Logs:         []string{"2024-01-01T00:00:00Z stdout: hello"},
		Annotations:  entity.Params{{Key: "path", Value: json.RawMessage(`"` + ns + "/" + name + `"`)}},
	}
}

func mustPutActs(t *testing.T, s store.Store, acts ...*entity.Activation) {
	t.Helper()
	if err := s.PutActivations(t.Context(), acts); err != nil {
		t.Fatalf("PutActivations of %d: %v", len(acts), err)
	}
}

// checkActivation compares activations by their JSON form.
func checkActivation(t *testing.T, got, want *entity.Activation) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	checkDoc(t, g, string(w))
}

func ids(acts []*entity.Activation) []string {
	out := make([]string, len(acts))
	for i, a := range acts {
		out[i] = a.ActivationID
	}
	return out
}

func testActivations(t *testing.T, open opener) {
	t.Run("PutAndGet", func(t *testing.T) {
		s := open(t)
		a, b := act("ns", "hello", 1000, 1), act("ns", "pkg/hello", 2000, 2)
		mustPutActs(t, s, a, b)
		for _, want := range []*entity.Activation{a, b} {
			got, err := s.GetActivation(t.Context(), "ns", want.ActivationID)
			if err != nil {
				t.Fatal(err)
			}
			checkActivation(t, got, want)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		s := open(t)
		if err := s.PutActivations(t.Context(), nil); err != nil {
			t.Fatalf("PutActivations of nothing: %v", err)
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		s := open(t)
		mustPutActs(t, s, act("ns", "a", 1000, 1), act("ns2", "a", 1000, 2))
		tests := []struct{ name, ns, id string }{
			{"UnknownID", "ns", fmt.Sprintf("%032x", 99)},
			{"OtherNamespace", "other", fmt.Sprintf("%032x", 1)},
			{"PrefixNamespace", "n", fmt.Sprintf("%032x", 1)},
			{"ExtendedNamespace", "ns2", fmt.Sprintf("%032x", 1)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := s.GetActivation(t.Context(), tt.ns, tt.id)
				wantErr(t, "GetActivation "+tt.ns+"/"+tt.id, err, store.ErrNotFound)
			})
		}
	})
	t.Run("IdempotentByID", func(t *testing.T) {
		tests := []struct {
			name string
			// second changes the redelivered copy of the first record.
			second     func(a *entity.Activation)
			oneBatch   bool
			goneByName string // a Name filter that must no longer find it
		}{
			{name: "SameRecord", second: func(*entity.Activation) {}},
			{name: "NewResponse", second: func(a *entity.Activation) {
				a.Response = entity.ErrorResponse(entity.StatusApplicationError, "boom")
			}},
			{name: "NewStart", second: func(a *entity.Activation) { a.Start, a.End = 5000, 5005 }},
			{name: "NewName", second: func(a *entity.Activation) { a.Name = "other" }, goneByName: "first"},
			{name: "SameBatch", second: func(a *entity.Activation) { a.Start = 7000 }, oneBatch: true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := open(t)
				first := act("ns", "first", 1000, 1)
				again := *first
				tt.second(&again)
				if tt.oneBatch {
					mustPutActs(t, s, first, act("ns", "first", 1500, 2), &again)
				} else {
					mustPutActs(t, s, first, act("ns", "first", 1500, 2))
					mustPutActs(t, s, &again)
				}
				got, err := s.GetActivation(t.Context(), "ns", first.ActivationID)
				if err != nil {
					t.Fatal(err)
				}
				checkActivation(t, got, &again)
				list, err := s.ListActivations(t.Context(), "ns", store.ActivationFilter{})
				if err != nil {
					t.Fatal(err)
				}
				if n := strings.Count(strings.Join(ids(list), ","), first.ActivationID); n != 1 || len(list) != 2 {
					t.Fatalf("after a re-put the list holds %q; want the record once beside the other", ids(list))
				}
				for _, name := range []string{again.Name, tt.goneByName} {
					if name == "" {
						continue
					}
					byName, err := s.ListActivations(t.Context(), "ns", store.ActivationFilter{Name: name})
					if err != nil {
						t.Fatal(err)
					}
					found := slices.Contains(ids(byName), first.ActivationID)
					if found != (name == again.Name) {
						t.Errorf("Name filter %q finds the re-put record: %v, want %v", name, found, !found)
					}
				}
			})
		}
	})
}
