package apigw

import (
	"path/filepath"
	"testing"

	"github.com/wispio/wisp/store/bolt"
)

// TestRepoSeesOtherWriters: two Repos over one store (two controllers over
// a shared store) see each other's changes at once, and the last route
// deleted deletes the namespace's document.
func TestRepoSeesOtherWriters(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "wisp.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	a, b := NewRepo(st), NewRepo(st)
	ctx := t.Context()
	add := func(r *Repo, rel string) {
		ch, err := ParseCreate([]byte(wskBody("/club", rel, "get", "x")), "ns", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Update(ctx, "ns", func(tb *Table) error { ch.Apply(tb, 1); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	add(a, "/one")
	if tb, err := b.Table(ctx, "ns"); err != nil || len(tb.APIs) != 1 {
		t.Fatalf("b reads %+v, %v", tb, err)
	}
	add(b, "/two")
	tb, err := a.Table(ctx, "ns")
	if err != nil || len(tb.Lookup("/club").Routes) != 2 {
		t.Fatalf("a reads %+v, %v", tb, err)
	}
	if _, out := tb.Find("GET", "/club/two"); out != Found {
		t.Fatal("the route b added does not match through a")
	}
	if _, err := a.Update(ctx, "ns", func(tb *Table) error { return tb.Delete(DeleteRequest{BasePath: "/club"}) }); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(ctx, "ns", Collection, tableDoc); err == nil {
		t.Fatal("an empty table is still stored")
	}
	if tb, err := b.Table(ctx, "ns"); err != nil || len(tb.APIs) != 0 {
		t.Fatalf("b reads %+v, %v after the delete", tb, err)
	}
}
