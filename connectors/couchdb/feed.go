package couchdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-kivik/kivik/v4"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/feeds"
)

// changesFeed follows one database's continuous changes feed. Its run
// goroutine owns cursor.
type changesFeed struct {
	cfg    changesConfig
	pcfg   Config
	client *kivik.Client
	db     *kivik.DB
	sink   feeds.Sink
	log    *slog.Logger
	cursor string // the seq after the last delivered change (or since)
	cancel context.CancelFunc
	done   chan struct{}
}

// Change is the trigger payload of one change, as OpenWhisk's cloudant
// changes feed fires it.
type Change struct {
	ID      string      `json:"id"`
	Seq     string      `json:"seq"`
	Changes []ChangeRev `json:"changes"`
	Deleted bool        `json:"deleted,omitempty"`
	DBName  string      `json:"dbname"`
}

// ChangeRev is one leaf revision of a change.
type ChangeRev struct {
	Rev string `json:"rev"`
}

// Stop ends the feed and waits for its goroutine (or for ctx).
func (f *changesFeed) Stop(ctx context.Context) error {
	f.cancel()
	select {
	case <-f.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop couchdb changes feed of %s: %w", f.cfg.dbname, ctx.Err())
	}
}

// run follows the feed until stopped: each pass connects from the cursor
// and delivers changes until the connection drops or a delivery fails,
// then waits a backoff that doubles per failing pass.
func (f *changesFeed) run(ctx context.Context) {
	defer close(f.done)
	defer f.client.Close()
	backoff := f.pcfg.MinBackoff
	healthy := true // Report(nil) only after a reported error
	for {
		delivered, err := f.follow(ctx, &healthy)
		if ctx.Err() != nil {
			return
		}
		if delivered {
			backoff = f.pcfg.MinBackoff
		}
		if err != nil {
			f.log.Warn("couchdb changes feed interrupted", "error", err, "retryIn", backoff)
			f.sink.Report(err)
			healthy = false
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		if err != nil {
			backoff = min(2*backoff, f.pcfg.MaxBackoff)
		}
	}
}

// follow makes one connection and delivers its changes. It returns
// whether anything was delivered, and why it stopped (nil: the server
// ended the feed).
func (f *changesFeed) follow(ctx context.Context, healthy *bool) (bool, error) {
	if err := f.pinNow(ctx); err != nil {
		return false, err
	}
	changes := f.db.Changes(ctx, kivik.Params(f.changesParams()))
	defer changes.Close()
	if err := changes.Err(); err != nil {
		return false, fmt.Errorf("open the changes feed of %s: %w", f.cfg.dbname, explain(f.cfg.server, err))
	}
	if !*healthy {
		f.sink.Report(nil)
		*healthy = true
	}
	delivered := false
	for changesNext(changes) {
		ev, err := f.event(changes)
		if err != nil {
			return delivered, err
		}
		if err := f.sink.Deliver(ctx, ev); err != nil {
			return delivered, fmt.Errorf("deliver change %s of %s: %w", changes.ID(), f.cfg.dbname, err)
		}
		f.cursor = ev.Cursor
		delivered = true
	}
	if err := changes.Err(); err != nil && ctx.Err() == nil {
		return delivered, fmt.Errorf("changes feed of %s dropped: %w", f.cfg.dbname, explain(f.cfg.server, err))
	}
	return delivered, nil
}

// changesNext is changes.Next, false as well when the server ended the
// feed: kivik v4.5.2 dereferences nil metadata when a continuous feed
// reaches its end (a body that closes, as a restarting CouchDB's or any
// tenant's server may send), which would crash the process; the feed
// then reconnects as after any end.
func changesNext(changes *kivik.Changes) (more bool) {
	defer func() {
		if recover() != nil {
			more = false
		}
	}()
	return changes.Next()
}

// pinNow replaces the cursor "now" by the database's update sequence, so
// that a reconnection before the first change misses nothing.
func (f *changesFeed) pinNow(ctx context.Context) error {
	if f.cursor != "now" {
		return nil
	}
	stats, err := f.db.Stats(ctx)
	if err != nil {
		return fmt.Errorf("read the update sequence of %s: %w", f.cfg.dbname, explain(f.cfg.server, err))
	}
	f.cursor = stats.UpdateSeq
	// Persist the pinned position: a restart before the first change then
	// resumes here instead of at a new "now".
	if err := f.sink.Deliver(ctx, feeds.Event{Cursor: f.cursor}); err != nil {
		return fmt.Errorf("checkpoint the update sequence of %s: %w", f.cfg.dbname, err)
	}
	return nil
}

// changesParams are the _changes query parameters of the next connection.
func (f *changesFeed) changesParams() map[string]any {
	p := map[string]any{
		"feed":      "continuous",
		"since":     f.cursor,
		"heartbeat": f.pcfg.Heartbeat.Milliseconds(),
		"style":     "main_only",
	}
	if f.cfg.filter != "" {
		p["filter"] = f.cfg.filter
		for k, v := range f.cfg.queryParams {
			if _, taken := p[k]; !taken {
				p[k] = v
			}
		}
	}
	return p
}

// event builds the payload of the current change.
func (f *changesFeed) event(changes *kivik.Changes) (feeds.Event, error) {
	c := Change{ID: changes.ID(), Seq: changes.Seq(), Deleted: changes.Deleted(), DBName: f.cfg.dbname}
	for _, rev := range changes.Changes() {
		c.Changes = append(c.Changes, ChangeRev{Rev: rev})
	}
	if c.Seq == "" {
		return feeds.Event{}, errors.New("the server sent a change without a seq")
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return feeds.Event{}, fmt.Errorf("encode change %s: %w", c.ID, err)
	}
	return feeds.Event{Payload: payload, Cursor: c.Seq, Attributes: changeAttributes(c)}, nil
}

// changeAttributes are a change's CloudEvents attributes: the database as
// source, the doc id as subject, type wisp.couchdb.change (or
// wisp.couchdb.deleted), and as id the doc id and its newest revision, so
// that a change the feed reads again after a restart fires once.
func changeAttributes(c Change) *entity.EventAttributes {
	a := &entity.EventAttributes{Source: "/whisk.system/" + PackageName + "/" + c.DBName, Type: "wisp.couchdb.change", Subject: c.ID}
	if c.Deleted {
		a.Type = "wisp.couchdb.deleted"
	}
	if n := len(c.Changes); n > 0 && c.ID != "" {
		a.ID = c.ID + "@" + c.Changes[n-1].Rev
	}
	return a
}
