package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/store/bolt"
)

type cached struct{ V int }

func TestDocCache(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "wisp.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	rev1, err := store.PutDoc(ctx, st, "ns", store.Actions, "a", "", cached{V: 1})
	if err != nil {
		t.Fatal(err)
	}
	c := store.NewDocCache[cached](st, store.Actions, 2)
	first, rev, err := c.Get(ctx, "ns", "a")
	if err != nil || rev != rev1 || first.V != 1 {
		t.Fatalf("Get = %v %q %v", first, rev, err)
	}
	again, _, _ := c.Get(ctx, "ns", "a")
	if again != first {
		t.Fatal("an unchanged document was decoded again")
	}
	rev2, err := store.PutDoc(ctx, st, "ns", store.Actions, "a", rev1, cached{V: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got, rev, _ := c.Get(ctx, "ns", "a"); got.V != 2 || rev != rev2 {
		t.Fatalf("after an update Get = %v %q", got, rev)
	}
	if got, rev, _ := c.At(ctx, "ns", "a", rev1); got.V != 2 || rev != rev2 {
		t.Fatalf("At an old revision = %v %q, want the current one", got, rev)
	}
	for _, name := range []string{"b", "c", "d"} {
		if _, err := store.PutDoc(ctx, st, "ns", store.Actions, name, "", cached{V: 9}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Get(ctx, "ns", name); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := c.Get(ctx, "ns", "missing"); err == nil {
		t.Fatal("Get of a missing document succeeded")
	}
}
