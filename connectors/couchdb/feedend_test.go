package couchdb

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wispio/wisp/feeds"
	"github.com/wispio/wisp/feeds/feedstest"
)

// TestFeedEndsCleanly: a server that ends the continuous changes feed
// (a body that simply closes, as a tenant's server may) has the feed
// reconnect after delivering what came, not crash the process: kivik
// v4.5.2 dereferences nil metadata when a continuous feed reaches its
// end.
func TestFeedEndsCleanly(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/db":
			_, _ = w.Write([]byte(`{"db_name":"db","update_seq":"1-a"}`))
		case "/db/_changes":
			_, _ = w.Write([]byte(`{"seq":"2-a","id":"doc","changes":[{"rev":"1-a"}]}` + "\n"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	reg := feeds.Registration{Trigger: "/ns/t", Provider: PackageName, Feed: ChangesFeed, Params: rawParams(t, map[string]any{"url": srv.URL, "dbname": "db"}), Cursor: "1-a"}
	sink := feedstest.NewSink()
	f, err := newProvider().Start(t.Context(), reg, sink)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop(context.Background())
	sink.WaitEvents(t, 2) // the change, then the same again after reconnecting
}
