package couchdb

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wispio/wisp/actions/builtin"
	"github.com/wispio/wisp/feeds"
	"github.com/wispio/wisp/feeds/feedstest"
)

// TestHostileAnswersBounded: a tenant's server that answers without end
// (a document that never closes, a changes row without a newline) costs
// the actions and the feed a bounded read: the read action fails past
// maxAnswer and the feed reports its row past maxRow, each saying so,
// instead of reading on.
func TestHostileAnswersBounded(t *testing.T) {
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	var sent struct{ doc, changes int }
	endless := func(w http.ResponseWriter, r *http.Request, prefix string, n *int) {
		// A client that stops reading leaves a write blocked: bound it.
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(10 * time.Second))
		_, _ = w.Write([]byte(prefix))
		for r.Context().Err() == nil && *n < 64<<20 { // stop at 64 MB whatever happens
			k, err := w.Write(chunk)
			*n += k
			if err != nil {
				return
			}
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/db":
			_, _ = w.Write([]byte(`{"db_name":"db","update_seq":"1-a"}`))
		case "/db/d":
			endless(w, r, `{"_id":"d","_rev":"1-a","v":"`, &sent.doc)
		case "/db/_changes":
			endless(w, r, `{"seq":"2-a","id":"`, &sent.changes)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	p := newProvider()

	b, _ := json.Marshal(map[string]any{"url": srv.URL, "dbname": "db", "docid": "d"})
	_, err := actionsByName(p)[ReadHandler](t.Context(), builtin.Call{Namespace: "ns", Action: "/whisk.system/couchdb/read", Params: b})
	if err == nil || !strings.Contains(err.Error(), "over the limit of 8388608 bytes") {
		t.Fatalf("read = %v, want the answer refused past 8 MB", err)
	}

	reg := feeds.Registration{Trigger: "/ns/t", Provider: PackageName, Feed: ChangesFeed, Params: rawParams(t, map[string]any{"url": srv.URL, "dbname": "db"}), Cursor: "1-a"}
	sink := feedstest.NewSink()
	f, err := p.Start(t.Context(), reg, sink)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop(context.Background())
	if err := sink.WaitReport(t, false); !strings.Contains(err.Error(), "a line over the limit of 1114112 bytes") {
		t.Fatalf("the feed reported %v, want its row refused past maxRow", err)
	}
	if n := sink.Count(); n != 0 {
		t.Fatalf("the feed delivered %d events", n)
	}
}
