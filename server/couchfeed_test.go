package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/internal/testenv"
	"github.com/wispio/wisp/store"
)

// TestCouchDBFeedEndToEnd wires a trigger to /whisk.system/couchdb/changes
// on pouchdb-server through the feed manager: a document written with the
// catalogue's write action runs the rule's action with the change.
func TestCouchDBFeedEndToEnd(t *testing.T) {
	couch := testenv.CouchDB(t)
	db := fmt.Sprintf("wisp-feed-%d", time.Now().UnixNano())
	req, _ := http.NewRequest(http.MethodPut, couch+"/"+db, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode >= 300 {
		t.Fatalf("create database %s: %v %v", db, err, resp)
	}
	resp.Body.Close()

	_, a := startTriggerServer(t, allowLoopback)
	a.action("onchange", 1)
	a.must(200, "PUT", "_/triggers/changed", map[string]any{"annotations": []map[string]any{{"key": "feed", "value": "/whisk.system/couchdb/changes"}}})
	a.rule("R", "changed", "onchange")
	status, res := a.feedCall("couchdb/changes", "CREATE", "changed", map[string]any{"url": couch, "dbname": db})
	if status != 200 || res["ok"] != true {
		t.Fatalf("CREATE = %d %v", status, res)
	}
	a.must(200, "POST", "whisk.system/actions/couchdb/write?blocking=true", map[string]any{
		"url": couch, "dbname": db, "doc": map[string]any{"_id": "reading-1", "celsius": 19},
	})
	waitFor(t, "the change to run onchange", func() bool {
		for _, act := range a.activationsOf("onchange") {
			var r struct {
				Echo struct {
					ID     string
					DBName string
				}
			}
			if json.Unmarshal(act.Response.Result, &r) == nil && r.Echo.ID == "reading-1" && r.Echo.DBName == db {
				return true
			}
		}
		return false
	})
	if status, res = a.feedCall("couchdb/changes", "DELETE", "changed", nil); status != 200 {
		t.Fatalf("DELETE = %d %v", status, res)
	}
}

// TestCouchDBFeedRestartMidStream restarts Wisp while documents are being
// written: changes written before, during and after the restart each run
// the rule's action exactly once (CouchDB gives ids: nothing lost, nothing
// fired twice).
func TestCouchDBFeedRestartMidStream(t *testing.T) {
	testenv.Node(t)
	couch := testenv.CouchDB(t)
	db := fmt.Sprintf("wisp-restart-%d", time.Now().UnixNano())
	put := func(path string, body any) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPut, couch+"/"+path, bytes.NewReader(b))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("PUT %s: %s", path, resp.Status)
		}
	}
	put(db, nil)

	dir := t.TempDir()
	creds := entity.NewCredentials()
	start := func(setup func(context.Context, store.Store) error) *Server {
		cfg := DefaultConfig()
		cfg.Invoker, cfg.Addr, cfg.DataDir = BackendProcess, "127.0.0.1:0", dir
		cfg.Pool.StemCells = nil
		allowLoopback(&cfg)
		srv, err := Start(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), setup)
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}
	srv := start(func(ctx context.Context, st store.Store) error {
		return st.CreateSubject(ctx, entity.Subject{Namespace: "fire", UUID: creds.UUID, KeyHash: entity.HashKey(creds.Key)})
	})
	a := &rawAPI{t: t, base: "http://" + srv.Addr() + "/api/v1/namespaces/", auth: creds}
	a.action("onchange", 4)
	a.must(200, "PUT", "_/triggers/changed", map[string]any{})
	a.rule("R", "changed", "onchange")
	if status, res := a.feedCall("couchdb/changes", "CREATE", "changed", map[string]any{"url": couch, "dbname": db}); status != 200 {
		t.Fatalf("CREATE = %d %v", status, res)
	}
	const n = 30
	doc := func(i int) { put(fmt.Sprintf("%s/doc-%02d", db, i), map[string]any{"i": i}) }
	for i := range n / 3 {
		doc(i)
	}
	waitFor(t, "a first change fired", func() bool { return len(a.activationsOf("onchange")) >= 1 })
	for i := n / 3; i < 2*n/3; i++ { // written while Wisp stops
		doc(i)
		if i == n/2 {
			if err := srv.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	srv = start(nil)
	t.Cleanup(func() { _ = srv.Close(context.Background()) })
	a.base = "http://" + srv.Addr() + "/api/v1/namespaces/"
	for i := 2 * n / 3; i < n; i++ {
		doc(i)
	}
	seen := map[string]int{}
	waitFor(t, "every change fired", func() bool {
		clear(seen)
		for _, act := range a.activationsOf("onchange") {
			var r struct{ Echo struct{ ID string } }
			if json.Unmarshal(act.Response.Result, &r) == nil {
				seen[r.Echo.ID]++
			}
		}
		return len(seen) == n
	})
	for id, k := range seen {
		if k != 1 {
			t.Errorf("%s fired %d times", id, k)
		}
	}
}
