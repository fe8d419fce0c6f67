package storetest

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
)

// testUndecodable: an activation record that encodes but cannot be decoded
// again (its result nests 9,999 levels, the record past encoding/json's
// 10,000) never fails a list: the list leaves it out and answers the rest,
// with and without a name filter; a store that counts skips counts it. A
// store may instead refuse to write it.
// This is what issue 22 reproduced before every door had a depth limit.
func testUndecodable(t *testing.T, open opener) {
	s := open(t)
	deep := act("ns", "a", 2000, 2)
	deep.Response.Result = json.RawMessage(strings.Repeat("[", 9_999) + strings.Repeat("]", 9_999))
	mustPutActs(t, s, act("ns", "a", 1000, 1), act("ns", "a", 3000, 3))
	if err := s.PutActivations(t.Context(), []*entity.Activation{deep}); err != nil {
		// Refusing to write it is fine too (pouchdb-server runs out of
		// stack); the list must still answer.
		t.Logf("the store refuses the undecodable record: %v", err)
		deep = nil
	}
	if f, ok := s.(interface{ Flush(context.Context) error }); ok {
		// A write-behind store lists what it holds from memory; the
		// record must reach the store below to be undecodable.
		if err := f.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	before := skips(s)
	for _, f := range []store.ActivationFilter{{}, {Name: "a"}, {Limit: 2}} {
		got, err := s.ListActivations(t.Context(), "ns", f)
		if err != nil {
			t.Fatalf("ListActivations(%+v) with an undecodable record: %v", f, err)
		}
		want := ids([]*entity.Activation{act("", "", 0, 3), act("", "", 0, 1)})
		if !slices.Equal(ids(got), want) {
			t.Fatalf("ListActivations(%+v) = %q, want %q", f, ids(got), want)
		}
	}
	if deep == nil {
		return
	}
	if c, ok := s.(store.SkipCounter); ok && c.Undecodable() < before+3 {
		t.Errorf("Undecodable = %d after three lists that skipped a record, want at least %d", c.Undecodable(), before+3)
	}
	if _, err := s.GetActivation(t.Context(), "ns", deep.ActivationID); err == nil {
		t.Errorf("GetActivation of the undecodable record succeeded")
	}
}

func skips(s store.Store) int64 {
	if c, ok := s.(store.SkipCounter); ok {
		return c.Undecodable()
	}
	return 0
}
