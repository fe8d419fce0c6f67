package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/wispio/wisp/internal/couch"
	"github.com/wispio/wisp/internal/testenv"
)

// TestCouchDBStore runs a whole Wisp on a CouchDB store (--store).
func TestCouchDBStore(t *testing.T) {
	url := testenv.CouchDB(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "wisp_server_" + hex.EncodeToString(b) + "_"
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
	_, c := startServer(t, func(cfg *Config) { cfg.StoreURL = url + "/?prefix=" + prefix })
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
