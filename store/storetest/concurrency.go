package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
)

// writers is how many goroutines race in each concurrency test.
const writers = 16

// race runs fn in writers goroutines released at once and returns their
// errors.
func race(fn func(i int) error) []error {
	errs := make([]error, writers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func testConcurrency(t *testing.T, open opener) {
	tests := []struct {
		name string
		// setup returns the revision every writer puts with.
		setup func(t *testing.T, s store.Store) string
	}{
		{"Create", func(*testing.T, store.Store) string { return "" }},
		{"Update", func(t *testing.T, s store.Store) string {
			return mustPut(t, s, rec("ns", store.Actions, "a", "", `{"writer":-1}`))
		}},
	}
	for _, tt := range tests {
		t.Run("SameRev"+tt.name, func(t *testing.T) {
			s := open(t)
			rev := tt.setup(t, s)
			revs := make([]string, writers)
			errs := race(func(i int) error {
				var err error
				revs[i], err = s.Put(t.Context(), rec("ns", store.Actions, "a", rev, fmt.Sprintf(`{"writer":%d}`, i)))
				return err
			})
			winner := -1
			for i, err := range errs {
				switch {
				case err == nil && winner >= 0:
					t.Fatalf("writers %d and %d both succeeded with revision %q", winner, i, rev)
				case err == nil:
					winner = i
				case !errors.Is(err, store.ErrConflict):
					t.Errorf("writer %d: %v, want a conflict", i, err)
				}
			}
			if winner < 0 {
				t.Fatal("no writer succeeded")
			}
			checkRecord(t, mustGet(t, s, "ns", store.Actions, "a"),
				rec("ns", store.Actions, "a", revs[winner], fmt.Sprintf(`{"writer":%d}`, winner)))
		})
	}
	t.Run("ActivationsAndReads", func(t *testing.T) {
		s := open(t)
		mustPut(t, s, rec("ns", store.Actions, "a", "", `{}`))
		errs := race(func(i int) error {
			// Every writer also re-puts its neighbour's first record: the
			// same ids arrive from two goroutines.
			batch := []*entity.Activation{act("ns", "a", int64(1000+i), 2*i), act("ns", "a", int64(1000+i), 2*i+1),
				act("ns", "a", int64(1000+(i+1)%writers), 2*((i+1)%writers))}
			if err := s.PutActivations(t.Context(), batch); err != nil {
				return err
			}
			if _, err := s.Get(t.Context(), "ns", store.Actions, "a"); err != nil {
				return err
			}
			_, err := s.ListActivations(t.Context(), "ns", store.ActivationFilter{Limit: 5})
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
			}
		}
		list, err := s.ListActivations(t.Context(), "ns", store.ActivationFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2*writers {
			t.Fatalf("%d activations stored, want %d", len(list), 2*writers)
		}
	})
}
