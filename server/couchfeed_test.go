package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/wispio/wisp/internal/testenv"
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

	_, a := startTriggerServer(t, nil)
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
