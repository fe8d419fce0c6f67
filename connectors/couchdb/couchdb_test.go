package couchdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kivik/kivik/v4"

	"github.com/wispio/wisp/actions/builtin"
	"github.com/wispio/wisp/egress"
	"github.com/wispio/wisp/feeds"
	"github.com/wispio/wisp/feeds/feedstest"
	"github.com/wispio/wisp/internal/couch"
	"github.com/wispio/wisp/internal/testenv"
)

// nextChange waits for the next event sink accepts and decodes its
// change.
func nextChange(t *testing.T, sink *feedstest.Sink) (feeds.Event, Change) {
	t.Helper()
	ev := sink.Next(t)
	var c Change
	if err := json.Unmarshal(ev.Payload, &c); err != nil {
		t.Fatalf("payload %s: %v", ev.Payload, err)
	}
	return ev, c
}

// testDB creates a database of its own on the test server, dropped after
// the test.
func testDB(t *testing.T) (url string, db *kivik.DB) {
	t.Helper()
	url = testenv.CouchDB(t)
	client, err := couch.Connect(url, couch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "wisp_feed_" + hex.EncodeToString(b)
	if err := client.CreateDB(t.Context(), name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := client.DestroyDB(context.Background(), name); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
		client.Close()
	})
	return url, client.DB(name)
}

func put(t *testing.T, db *kivik.DB, id string, doc any) string {
	t.Helper()
	rev, err := db.Put(t.Context(), id, doc)
	if err != nil {
		t.Fatalf("put %s: %v", id, err)
	}
	return rev
}

func rawParams(t *testing.T, p map[string]any) map[string]json.RawMessage {
	t.Helper()
	out := map[string]json.RawMessage{}
	for k, v := range p {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = b
	}
	return out
}

// newProvider is a provider whose egress policy lets through the test
// servers on 127.0.0.1.
func newProvider() *Provider {
	return newProviderWith(egress.New(netip.MustParsePrefix("127.0.0.1/32")))
}

func newProviderWith(policy *egress.Policy) *Provider {
	return New(Config{MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Heartbeat: time.Second, Egress: policy},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// start runs a changes feed on db from cursor, stopped after the test.
func start(t *testing.T, url string, db *kivik.DB, cursor string, extra map[string]any) (feeds.Feed, *feedstest.Sink) {
	t.Helper()
	p := map[string]any{"url": url, "dbname": db.Name()}
	for k, v := range extra {
		p[k] = v
	}
	reg := feeds.Registration{Trigger: "/ns/t", Provider: PackageName, Feed: ChangesFeed, Params: rawParams(t, p), Cursor: cursor}
	sink := feedstest.NewSink()
	f, err := newProvider().Start(t.Context(), reg, sink)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return f, sink
}

func TestChangesArrive(t *testing.T) {
	url, db := testDB(t)
	put(t, db, "before", map[string]any{"v": 0}) // since defaults to now: not delivered
	_, sink := start(t, url, db, "", nil)
	revA := put(t, db, "a", map[string]any{"v": 1})
	ev, c := nextChange(t, sink)
	if c.ID != "a" || len(c.Changes) != 1 || c.Changes[0].Rev != revA || c.Deleted || c.DBName != db.Name() || c.Seq == "" || ev.Cursor != c.Seq {
		t.Fatalf("event %s (cursor %q), want change of a at %s", ev.Payload, ev.Cursor, revA)
	}
	var payload map[string]any
	_ = json.Unmarshal(ev.Payload, &payload)
	if _, ok := payload["deleted"]; ok {
		t.Errorf("payload %s has deleted for a live document", ev.Payload)
	}
	if _, err := db.Delete(t.Context(), "a", revA); err != nil {
		t.Fatal(err)
	}
	_, c = nextChange(t, sink)
	if c.ID != "a" || !c.Deleted {
		t.Fatalf("change %+v, want a deleted", c)
	}
}

// ids reads n events and returns their document ids and the last cursor.
func ids(t *testing.T, s *feedstest.Sink, n int) ([]string, string) {
	t.Helper()
	var out []string
	cursor := ""
	for range n {
		ev, c := nextChange(t, s)
		out = append(out, c.ID)
		cursor = ev.Cursor
	}
	return out, cursor
}

func TestRestartResumesFromCursor(t *testing.T) {
	url, db := testDB(t)
	put(t, db, "a", map[string]any{})
	put(t, db, "b", map[string]any{})
	f, sink := start(t, url, db, "", map[string]any{"since": "0"})
	got, cursor := ids(t, sink, 2)
	if strings.Join(got, ",") != "a,b" {
		t.Fatalf("first run delivered %q, want a,b", got)
	}
	if err := f.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Written while the feed is down: a restart from the cursor must
	// deliver them, and nothing from before.
	put(t, db, "c", map[string]any{})
	put(t, db, "d", map[string]any{})
	_, sink = start(t, url, db, cursor, map[string]any{"since": "0"})
	put(t, db, "e", map[string]any{})
	if got, _ := ids(t, sink, 3); strings.Join(got, ",") != "c,d,e" {
		t.Fatalf("after the restart the feed delivered %q, want c,d,e", got)
	}
}

func TestFailedDeliveryIsNotAdvanced(t *testing.T) {
	url, db := testDB(t)
	_, sink := start(t, url, db, "", nil)
	failures := 2 // guarded by the sink, which calls the func under its lock
	sink.FailWhen(func(ev feeds.Event) bool {
		if strings.Contains(string(ev.Payload), `"id":"b"`) && failures > 0 {
			failures--
			return true
		}
		return false
	})
	put(t, db, "a", map[string]any{})
	put(t, db, "b", map[string]any{})
	put(t, db, "c", map[string]any{})
	if got, _ := ids(t, sink, 3); strings.Join(got, ",") != "a,b,c" {
		t.Fatalf("delivered %q, want a,b,c: b again after its failures, c only after b", got)
	}
	for i := range 2 {
		if err := sink.NextReport(t); err == nil || !strings.Contains(err.Error(), "sink refused") {
			t.Fatalf("report %d: %v, want the delivery failure", i, err)
		}
		if err := sink.NextReport(t); err != nil {
			t.Fatalf("report after reconnecting: %v, want nil", err)
		}
	}
}

func TestFilter(t *testing.T) {
	url, db := testDB(t)
	put(t, db, "_design/app", map[string]any{"filters": map[string]string{
		"by_kind": `function (doc, req) { return doc.kind === req.query.kind; }`,
	}})
	_, sink := start(t, url, db, "", map[string]any{"filter": "app/by_kind", "query_params": map[string]string{"kind": "order"}})
	put(t, db, "x", map[string]any{"kind": "invoice"})
	put(t, db, "y", map[string]any{"kind": "order"})
	put(t, db, "z", map[string]any{"kind": "order"})
	if got, _ := ids(t, sink, 2); strings.Join(got, ",") != "y,z" {
		t.Fatalf("filtered feed delivered %q, want y,z", got)
	}
}

// proxy forwards TCP connections to target until drop closes them all.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.drop() })
	go p.serve()
	return p
}

func (p *proxy) serve() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, in, out)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(out, in); out.Close() }()
		go func() { _, _ = io.Copy(in, out); in.Close() }()
	}
}

// drop closes every connection made so far.
func (p *proxy) drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func TestReconnectsAfterDroppedConnection(t *testing.T) {
	url, db := testDB(t)
	px := newProxy(t, strings.TrimPrefix(url, "http://"))
	_, sink := start(t, "http://"+px.ln.Addr().String(), db, "", nil)
	put(t, db, "a", map[string]any{})
	ids(t, sink, 1)
	px.drop()
	if err := sink.NextReport(t); err == nil {
		t.Fatal("the dropped connection was reported as healthy")
	}
	if err := sink.NextReport(t); err != nil {
		t.Fatalf("report after reconnecting: %v, want nil", err)
	}
	put(t, db, "b", map[string]any{})
	if got, _ := ids(t, sink, 1); got[0] != "b" {
		t.Fatalf("after reconnecting the feed delivered %q, want b", got)
	}
}

func TestValidate(t *testing.T) {
	url, db := testDB(t)
	put(t, db, "_design/app", map[string]any{"filters": map[string]string{"f": `function () { return true; }`}})
	withCreds := strings.Replace(url, "://", "://nobody:s3cret@", 1)
	tests := []struct {
		name   string
		feed   string
		params map[string]any
		want   string // "" means valid
	}{
		{"Valid", "changes", map[string]any{"url": url, "dbname": db.Name()}, ""},
		{"ValidWithFilter", "changes", map[string]any{"url": url, "dbname": db.Name(), "filter": "app/f", "query_params": `{"k":"v"}`, "since": 0}, ""},
		{"UnknownFeed", "updates", map[string]any{"url": url, "dbname": db.Name()}, `feed "updates"`},
		{"NoURL", "changes", map[string]any{"dbname": db.Name()}, "url is required"},
		{"BadURL", "changes", map[string]any{"url": "ftp://x", "dbname": db.Name()}, "url must be an http or https URL"},
		{"URLNotString", "changes", map[string]any{"url": map[string]any{}, "dbname": db.Name()}, "url must be a string"},
		{"NoDBName", "changes", map[string]any{"url": url}, "dbname is required"},
		{"BadFilter", "changes", map[string]any{"url": url, "dbname": db.Name(), "filter": "nofilter"}, "filter must name a filter function"},
		{"BadQueryParams", "changes", map[string]any{"url": url, "dbname": db.Name(), "query_params": "[1]"}, "query_params must be a JSON object"},
		{"Unreachable", "changes", map[string]any{"url": "http://127.0.0.1:1", "dbname": "x"}, "url cannot reach http://127.0.0.1:1"},
		{"WrongCredentials", "changes", map[string]any{"url": url, "username": "nobody", "password": "s3cret", "dbname": db.Name()}, "username/password were refused"},
		{"WrongCredentialsInURL", "changes", map[string]any{"url": withCreds, "dbname": db.Name()}, "username/password were refused"},
		{"MissingDatabase", "changes", map[string]any{"url": url, "dbname": db.Name() + "_nope"}, "dbname database " + db.Name() + "_nope does not exist"},
		{"MissingDesignDoc", "changes", map[string]any{"url": url, "dbname": db.Name(), "filter": "other/f"}, "filter names the design document _design/other"},
		{"MissingFilterFunction", "changes", map[string]any{"url": url, "dbname": db.Name(), "filter": "app/g"}, `filter _design/app has no filter function "g"`},
	}
	p := newProvider()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Validate(t.Context(), tt.feed, rawParams(t, tt.params))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			switch {
			case err == nil:
				t.Fatalf("Validate accepted the parameters; want %q", tt.want)
			case !strings.Contains(err.Error(), tt.want):
				t.Fatalf("Validate: %q, want it to contain %q", err, tt.want)
			case !errors.Is(err, feeds.ErrInvalid):
				t.Errorf("Validate: %v is not feeds.ErrInvalid", err)
			case strings.Contains(err.Error(), "s3cret"):
				t.Errorf("Validate: %q repeats the password", err)
			}
		})
	}
}

func TestActions(t *testing.T) {
	url, db := testDB(t)
	acts := actionsByName(newProvider())
	conn := map[string]any{"url": url, "dbname": db.Name()}
	call := func(t *testing.T, handler string, extra map[string]any) (map[string]any, error) {
		t.Helper()
		p := map[string]any{}
		for k, v := range conn {
			p[k] = v
		}
		for k, v := range extra {
			p[k] = v
		}
		b, _ := json.Marshal(p)
		res, err := acts[handler](t.Context(), builtin.Call{Namespace: "ns", Action: "/whisk.system/couchdb/x", Params: b})
		if err != nil {
			return nil, err
		}
		var out map[string]any
		if err := json.Unmarshal(res, &out); err != nil {
			t.Fatalf("result %s: %v", res, err)
		}
		return out, nil
	}
	must := func(out map[string]any, err error) map[string]any {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	created := must(call(t, WriteHandler, map[string]any{"doc": map[string]any{"kind": "order", "n": 1}}))
	if created["ok"] != true || created["id"] == "" || created["rev"] == "" {
		t.Fatalf("write without _id = %v", created)
	}
	first := must(call(t, WriteHandler, map[string]any{"doc": `{"_id":"o2","kind":"order","n":2}`}))
	_, err := call(t, WriteHandler, map[string]any{"doc": map[string]any{"_id": "o2", "n": 3}})
	if err == nil || !strings.Contains(err.Error(), "overwrite") {
		t.Fatalf("write of an existing _id without overwrite: %v, want a conflict naming overwrite", err)
	}
	second := must(call(t, WriteHandler, map[string]any{"doc": map[string]any{"_id": "o2", "kind": "order", "n": 3}, "overwrite": "true"}))
	if second["rev"] == first["rev"] {
		t.Fatalf("overwrite kept revision %v", first["rev"])
	}

	doc := must(call(t, ReadHandler, map[string]any{"docid": "o2"}))
	if doc["n"] != 3.0 || doc["_rev"] != second["rev"] {
		t.Fatalf("read o2 = %v, want n 3 at %v", doc, second["rev"])
	}
	old := must(call(t, ReadHandler, map[string]any{"id": "o2", "params": map[string]any{"rev": first["rev"]}}))
	if old["n"] != 2.0 {
		t.Fatalf("read o2 at its first revision = %v, want n 2", old)
	}

	found := must(call(t, QueryHandler, map[string]any{"query": map[string]any{"selector": map[string]any{"kind": "order", "n": map[string]any{"$gt": 1}}}}))
	if docs, _ := found["docs"].([]any); len(docs) != 1 || docs[0].(map[string]any)["_id"] != "o2" {
		t.Fatalf("query = %v, want o2 alone", found)
	}
	found = must(call(t, QueryHandler, map[string]any{"selector": `{"kind":"order"}`}))
	if docs, _ := found["docs"].([]any); len(docs) != 2 {
		t.Fatalf("query by selector = %v, want both orders", found)
	}

	errs := []struct {
		name, handler string
		params        map[string]any
		want          string
	}{
		{"ReadMissing", ReadHandler, map[string]any{"docid": "nope"}, `docid "nope": no such document`},
		{"ReadNoID", ReadHandler, nil, "docid is required"},
		{"WriteNoDoc", WriteHandler, nil, "doc is required"},
		{"WriteBadDoc", WriteHandler, map[string]any{"doc": "not json"}, "doc must be a JSON object"},
		{"WriteBadOverwrite", WriteHandler, map[string]any{"doc": map[string]any{}, "overwrite": "maybe"}, "overwrite must be true or false"},
		{"QueryNothing", QueryHandler, nil, "query is required"},
		{"NoDBName", ReadHandler, map[string]any{"dbname": nil, "docid": "o2"}, "dbname is required"},
		{"WrongPassword", ReadHandler, map[string]any{"username": "nobody", "password": "s3cret", "docid": "o2"}, "username/password were refused"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := call(t, tt.handler, tt.params)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("error %v, want one containing %q and no password", err, tt.want)
			}
		})
	}
}
