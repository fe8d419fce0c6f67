package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/wispio/wisp/internal/couch"
	"github.com/wispio/wisp/internal/testenv"
)

// couchStore returns a store URL on the suite's CouchDB server at url
// whose databases have a prefix of the test's own; they are dropped after
// the test.
func couchStore(t *testing.T, url string) (storeURL, prefix string) {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix = "wisp_server_" + hex.EncodeToString(b) + "_"
	t.Cleanup(func() {
		client, err := couch.Connect(url, couch.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		for _, db := range []string{"entities", "activations", "subjects"} {
			if err := client.DestroyDB(context.Background(), prefix+db); err != nil {
				t.Errorf("drop %s: %v", prefix+db, err)
			}
		}
	})
	return url + "/?prefix=" + prefix, prefix
}

// TestCouchDBStore runs a whole Wisp on a CouchDB store (--store).
func TestCouchDBStore(t *testing.T) {
	store, _ := couchStore(t, testenv.CouchDB(t))
	_, c := startServer(t, func(cfg *Config) { cfg.StoreURL = store })
	createAction(t, c, "hello", "nodejs:20", `function main(p) { return {msg: "hi " + p.name} }`, nil)
	act := invoke(t, c, "hello", map[string]string{"name": "Ada"})
	if !act.Response.Success {
		t.Fatalf("activation %+v", act)
	}
	got, _, err := c.GetActivation(t.Context(), act.ActivationID)
	if err != nil || got.ActivationID != act.ActivationID {
		t.Fatalf("activation from the CouchDB store: %+v, %v", got, err)
	}
}
