package couchdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/go-kivik/kivik/v4"

	"github.com/wispio/wisp/feeds"
	"github.com/wispio/wisp/internal/couch"
	"github.com/wispio/wisp/internal/testenv"
)

// wait bounds every wait for something the server should send at once;
// it only turns a hang into a failure.
const wait = 20 * time.Second

// fakeSink records deliveries; fail, when set, decides whether a delivery
// fails.
type fakeSink struct {
	events  chan feeds.Event
	reports chan error
	mu      sync.Mutex
	fail    func(feeds.Event) bool
}

func newSink() *fakeSink {
	return &fakeSink{events: make(chan feeds.Event, 100), reports: make(chan error, 100)}
}

func (s *fakeSink) Deliver(_ context.Context, ev feeds.Event) error {
	s.mu.Lock()
	fail := s.fail != nil && s.fail(ev)
	s.mu.Unlock()
	if fail {
		return errors.New("sink refused the event")
	}
	s.events <- ev
	return nil
}

func (s *fakeSink) Report(err error)   { s.reports <- err }
func (s *fakeSink) Done(deleteTrigger bool) {}

// next returns the next delivered event and its payload.
func (s *fakeSink) next(t *testing.T) (feeds.Event, Change) {
	t.Helper()
	select {
	case ev := <-s.events:
		var c Change
		if err := json.Unmarshal(ev.Payload, &c); err != nil {
			t.Fatalf("payload %s: %v", ev.Payload, err)
		}
		return ev, c
	case <-time.After(wait):
		t.Fatal("no change delivered")
	}
	panic("unreachable")
}

// nextReport returns the next health report.
func (s *fakeSink) nextReport(t *testing.T) error {
	t.Helper()
	select {
	case err := <-s.reports:
		return err
	case <-time.After(wait):
		t.Fatal("no report")
	}
	panic("unreachable")
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

func newProvider() *Provider {
	return New(Config{MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Heartbeat: time.Second},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// start runs a changes feed on db from cursor, stopped after the test.
func start(t *testing.T, url string, db *kivik.DB, cursor string, extra map[string]any) (feeds.Feed, *fakeSink) {
	t.Helper()
	p := map[string]any{"url": url, "dbname": db.Name()}
	for k, v := range extra {
		p[k] = v
	}
	reg := feeds.Registration{Trigger: "/ns/t", Provider: PackageName, Feed: ChangesFeed, Params: rawParams(t, p), Cursor: cursor}
	sink := newSink()
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
	ev, c := sink.next(t)
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
	_, c = sink.next(t)
	if c.ID != "a" || !c.Deleted {
		t.Fatalf("change %+v, want a deleted", c)
	}
}
