package couchdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-kivik/kivik/v4"

	"github.com/wispio/wisp/egress"
	"github.com/wispio/wisp/feeds"
	"github.com/wispio/wisp/internal/couch"
)

// Catalogue names.
const (
	// PackageName is the catalogue package, /whisk.system/couchdb.
	PackageName = "couchdb"
	// ChangesFeed is the feed action, /whisk.system/couchdb/changes.
	ChangesFeed = "changes"
)

// Config tunes the provider; the zero value takes the defaults.
type Config struct {
	// MinBackoff and MaxBackoff bound the wait before reconnecting after
	// the feed dropped or a delivery failed (defaults 250ms and 30s; the
	// wait doubles per failure in a row).
	MinBackoff, MaxBackoff time.Duration
	// Heartbeat is how often the server sends a heartbeat on the feed
	// (default 10s); a connection silent for three heartbeats is dropped
	// and opened again.
	Heartbeat time.Duration
	// ValidateTimeout bounds Validate's requests (default 10s).
	ValidateTimeout time.Duration
	// Egress is the policy every connection to a tenant's server passes;
	// nil is the default policy (no private or loopback address).
	Egress *egress.Policy
}

func (c Config) withDefaults() Config {
	if c.MinBackoff <= 0 {
		c.MinBackoff = 250 * time.Millisecond
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = max(30*time.Second, c.MinBackoff)
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = 10 * time.Second
	}
	if c.ValidateTimeout <= 0 {
		c.ValidateTimeout = 10 * time.Second
	}
	return c
}

// Provider is the CouchDB changes feed provider.
type Provider struct {
	cfg Config
	log *slog.Logger
}

var _ feeds.Provider = (*Provider)(nil)

// New returns the provider.
func New(cfg Config, log *slog.Logger) *Provider {
	return &Provider{cfg: cfg.withDefaults(), log: log}
}

// Name is the catalogue package the provider serves.
func (p *Provider) Name() string { return PackageName }

// Feeds lists the feed actions.
func (p *Provider) Feeds() []string { return []string{ChangesFeed} }

// Validate checks the parameters, then that the database answers to the
// credentials and, when a filter is named, that its design document has
// that filter.
func (p *Provider) Validate(ctx context.Context, feed string, raw map[string]json.RawMessage) error {
	if feed != ChangesFeed {
		return fmt.Errorf("%w: feed %q is not one of couchdb's feeds (%s)", feeds.ErrInvalid, feed, ChangesFeed)
	}
	cfg, err := parseChanges(raw)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.ValidateTimeout)
	defer cancel()
	client, err := p.connect(cfg.server, 0)
	if err != nil {
		return err
	}
	defer client.Close()
	db := client.DB(cfg.dbname)
	if _, err := db.Stats(ctx); err != nil {
		return explain(cfg.server, err)
	}
	if cfg.filter != "" {
		return checkFilter(ctx, db, cfg)
	}
	return nil
}

// checkFilter checks that the design document of cfg.filter exists and
// defines the filter.
func checkFilter(ctx context.Context, db *kivik.DB, cfg changesConfig) error {
	ddoc, name, _ := strings.Cut(cfg.filter, "/")
	var d struct {
		Filters map[string]json.RawMessage `json:"filters"`
	}
	err := db.Get(ctx, "_design/"+ddoc).ScanDoc(&d)
	switch {
	case couch.Status(err) == http.StatusNotFound:
		return invalid("filter", "names the design document _design/%s, which database %s does not have", ddoc, cfg.dbname)
	case err != nil:
		return explain(cfg.server, err)
	case d.Filters[name] == nil:
		return invalid("filter", "_design/%s has no filter function %q", ddoc, name)
	}
	return nil
}

// maxAnswer bounds an answer of a tenant's server to the actions and the
// feed's checks (a document or a query; an action's result past 1 MB is
// refused anyway), maxRow a row of the changes feed, which carries an id
// and revisions, never a document.
const (
	maxAnswer = 8 << 20
	maxRow    = 1<<20 + 64<<10
)

// connect opens a client of the server, its connections checked by the
// egress policy and its answers bounded: with a read idle timeout (the
// changes feed) each row to maxRow, otherwise each answer to maxAnswer.
func (p *Provider) connect(s server, idle time.Duration) (*kivik.Client, error) {
	opts := couch.Options{Username: s.username, Password: s.password, IdleTimeout: idle, Dialer: p.cfg.Egress.Dialer(), MaxBody: maxAnswer}
	if idle > 0 {
		opts.MaxBody, opts.MaxLine = 0, maxRow
	}
	client, err := couch.Connect(s.url, opts)
	if err != nil {
		return nil, invalid("url", "%v", err)
	}
	return client, nil
}

// explain turns a failed request into an error for the user naming the
// parameter at fault. Messages never include the password (the URL
// carries none: parseServer took the credentials out) nor anything the
// server sent beyond its status code: the server is the tenant's choice,
// and its text would make the error an oracle on what listens there. A
// connection the egress policy refused says only the policy's message.
func explain(s server, err error) error {
	switch status := couch.Status(err); status {
	case http.StatusUnauthorized:
		return invalid("username/password", "were refused by %s", s.url)
	case http.StatusForbidden:
		return invalid("username", "%q may not read database %s", s.username, s.dbname)
	case http.StatusNotFound:
		return invalid("dbname", "database %s does not exist at %s", s.dbname, s.url)
	default:
		if de := (*egress.DeniedError)(nil); errors.As(err, &de) {
			return &paramError{msg: de.Error()}
		}
		if tl := (*couch.TooLargeError)(nil); errors.As(err, &tl) {
			return fmt.Errorf("database %s at %s: %w", s.dbname, s.url, tl)
		}
		if ue := (*url.Error)(nil); errors.As(err, &ue) { // no answer at all
			return invalid("url", "cannot reach %s: %s", s.url, egress.Explain(ue.Err))
		}
		if reason := egress.Explain(err); reason != "no valid answer" { // the connection failed midway
			return fmt.Errorf("database %s at %s: %s", s.dbname, s.url, reason)
		}
		return fmt.Errorf("database %s at %s: the request failed (HTTP status %d)", s.dbname, s.url, status)
	}
}

// Start runs a changes feed from reg.Cursor, or from the since parameter
// when the feed has delivered nothing yet.
func (p *Provider) Start(ctx context.Context, reg feeds.Registration, sink feeds.Sink) (feeds.Feed, error) {
	if reg.Feed != ChangesFeed {
		return nil, fmt.Errorf("%w: feed %q is not one of couchdb's feeds (%s)", feeds.ErrInvalid, reg.Feed, ChangesFeed)
	}
	cfg, err := parseChanges(reg.Params)
	if err != nil {
		return nil, err
	}
	client, err := p.connect(cfg.server, 3*p.cfg.Heartbeat)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	f := &changesFeed{
		cfg:    cfg,
		pcfg:   p.cfg,
		db:     client.DB(cfg.dbname),
		client: client,
		sink:   sink,
		cursor: reg.Cursor,
		log:    p.log.With("trigger", reg.Trigger, "provider", PackageName, "dbname", cfg.dbname),
		cancel: cancel,
		done:   make(chan struct{}),
	}
	if f.cursor == "" {
		f.cursor = cfg.since
	}
	if f.cursor == "now" {
		// Changes from the moment of Start on; when the server does not
		// answer now, the feed pins "now" once it does.
		_ = f.pinNow(ctx)
	}
	go f.run(runCtx)
	return f, nil
}
