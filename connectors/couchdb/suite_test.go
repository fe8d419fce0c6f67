package couchdb

import (
	"encoding/json"
	"testing"

	"github.com/go-kivik/kivik/v4"

	"github.com/wispio/wisp/feeds"
	"github.com/wispio/wisp/feeds/feedstest"
)

// TestProviderConformance runs the feeds.Provider suite on pouchdb-server:
// every registration watches a database of its own, and Emit writes a
// document to it.
func TestProviderConformance(t *testing.T) {
	dbs := map[string]*kivik.DB{} // by name; the suite's cases run one at a time
	feedstest.Run(t, feedstest.Provider{
		New:  func(*testing.T) feeds.Provider { return newProvider() },
		Feed: ChangesFeed,
		Params: func(t *testing.T) map[string]json.RawMessage {
			url, db := testDB(t)
			dbs[db.Name()] = db
			return rawParams(t, map[string]any{"url": url, "dbname": db.Name()})
		},
		Emit: func(t *testing.T, _ feeds.Provider, reg feeds.Registration) {
			var name string
			if err := json.Unmarshal(reg.Params["dbname"], &name); err != nil {
				t.Fatal(err)
			}
			put(t, dbs[name], "emitted", map[string]any{"v": 1})
		},
	})
}
