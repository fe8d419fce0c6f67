package couchdb

import (
	"fmt"
	"testing"
)

// TestChangeAttributes: a change's CloudEvents attributes; the id names
// the doc's revision, so reading the change again gives the same id.
func TestChangeAttributes(t *testing.T) {
	for _, tc := range []struct {
		c    Change
		want string
	}{
		{Change{ID: "order-1", Seq: "3", DBName: "shop", Changes: []ChangeRev{{Rev: "2-b"}}}, "order-1@2-b /whisk.system/couchdb/shop wisp.couchdb.change order-1"},
		{Change{ID: "order-1", Seq: "4", DBName: "shop", Deleted: true, Changes: []ChangeRev{{Rev: "3-c"}}}, "order-1@3-c /whisk.system/couchdb/shop wisp.couchdb.deleted order-1"},
		{Change{ID: "x", Seq: "5", DBName: "shop"}, " /whisk.system/couchdb/shop wisp.couchdb.change x"},
	} {
		a := changeAttributes(tc.c)
		if got := fmt.Sprintf("%s %s %s %s", a.ID, a.Source, a.Type, a.Subject); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.c, got, tc.want)
		}
	}
}
