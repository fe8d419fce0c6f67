package api

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
)

// TestListsHoldNoCode: listing actions, and getting a package with its
// actions, reads each action's summary as the store reads it
// (store.ListOptions.Project), so a list of large actions keeps the code
// of none: 20 actions of 2 MB each list with 0.2 MB of allocations, where
// keeping each document took 40 MB (and decoding each whole, as lists did,
// 40 MB more).
func TestListsHoldNoCode(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	code := strings.Repeat("x", 2<<20)
	const n = 20
	if _, err := store.PutDoc(ctx, f.store, "me", store.Packages, "big", "", entity.Package{Namespace: "me", Name: "big"}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		name := fmt.Sprintf("a%02d", i)
		if i%2 == 1 {
			name = "big/" + name
		}
		a := entity.Action{Namespace: "me", Name: name, Version: "0.0.1",
			Exec: entity.Exec{Kind: "nodejs:20", Code: code}, Annotations: entity.Params{{Key: "exec", Value: json.RawMessage(`"nodejs:20"`)}},
			Parameters: entity.Params{{Key: "secret", Value: json.RawMessage(`"hunter2"`)}}}
		if _, err := store.PutDoc(ctx, f.store, "me", store.Actions, name, "", a); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		path string
		want int // actions listed
	}{
		{"/api/v1/namespaces/_/actions?limit=200", n},
		{"/api/v1/namespaces/_/actions/big/", n / 2},
		{"/api/v1/namespaces/_/packages/big", n / 2},
	} {
		t.Run(tt.path, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			code, _, body := f.do(t, "GET", tt.path, "", &f.auth)
			runtime.ReadMemStats(&after)
			if code != 200 {
				t.Fatalf("%d %s", code, body)
			}
			if got := strings.Count(body, `"name":"`); got < tt.want {
				t.Errorf("%d names in %s, want %d", got, body, tt.want)
			}
			if strings.Contains(body, "xxxx") || strings.Contains(body, "hunter2") {
				t.Errorf("the list shows code or parameters: %.200s", body)
			}
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d actions listed with %.1f MB allocated", tt.want, float64(alloc)/(1<<20))
			if alloc > 16<<20 {
				t.Errorf("the list allocated %d MB for %d actions of 2 MB: their code was kept", alloc>>20, tt.want)
			}
		})
	}
}
