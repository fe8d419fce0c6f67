package couchdb

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	neturl "net/url"
	"reflect"
	"strings"
	"sync/atomic"

	"github.com/go-kivik/kivik/v4"

	"github.com/wispio/wisp/internal/couch"
	"github.com/wispio/wisp/store"
)

// DefaultPrefix starts the names of the store's databases.
const DefaultPrefix = "wisp_"

// The databases, after the prefix.
const (
	entitiesDB    = "entities"
	activationsDB = "activations"
	subjectsDB    = "subjects"
)

// Options configure Open.
type Options struct {
	// Prefix starts the database names (DefaultPrefix when empty): several
	// Wisp installations, or tests, can share one server.
	Prefix string
	// Log receives a warning for each record a list skips because it
	// cannot be decoded; nil is slog.Default().
	Log *slog.Logger
	// Username and Password, when Username is set, authenticate (HTTP
	// Basic) instead of the URL's user information, so that a password
	// read from a file or the environment need not be URL-encoded.
	Username, Password string
}

// Store is a store.Store on a CouchDB server; see the package doc. It is
// safe for concurrent use (kivik's client is).
type Store struct {
	client      *kivik.Client
	url         string // without password, for errors
	entities    *kivik.DB
	activations *kivik.DB
	subjects    *kivik.DB
	log         *slog.Logger
	// undecodable counts the records lists skipped (store.SkipCounter).
	undecodable atomic.Int64
}

var (
	_ store.Store       = (*Store)(nil)
	_ store.SkipCounter = (*Store)(nil)
)

// Open connects to the server at rawURL (http://user:pass@host:5984; the
// couchdb:// scheme means http://) and creates the databases and the
// activation views when missing. A query parameter prefix
// (couchdb://host:5984/?prefix=team1_) sets Options.Prefix when that is
// empty.
func Open(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	url, prefix, err := splitPrefix(rawURL)
	if err != nil {
		return nil, fmt.Errorf("open couchdb store: %w", err)
	}
	opts.Prefix = cmp.Or(opts.Prefix, prefix, DefaultPrefix)
	if !validPrefix(opts.Prefix) {
		return nil, fmt.Errorf("open couchdb store: prefix %q: database names start with a lowercase letter and hold only a-z, 0-9 and _$()+-", opts.Prefix)
	}
	client, err := couch.Connect(url, couch.Options{Username: opts.Username, Password: opts.Password})
	if err != nil {
		return nil, fmt.Errorf("open couchdb store: %w", err)
	}
	s := &Store{client: client, url: couch.Redact(url), log: cmp.Or(opts.Log, slog.Default())}
	dbs := []struct {
		name string
		db   **kivik.DB
	}{{entitiesDB, &s.entities}, {activationsDB, &s.activations}, {subjectsDB, &s.subjects}}
	for _, d := range dbs {
		db, err := ensureDB(ctx, client, opts.Prefix+d.name)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("open couchdb store at %s: %w", s.url, err), client.Close())
		}
		*d.db = db
	}
	if err := ensureDesignDoc(ctx, s.activations, activationViews); err != nil {
		return nil, errors.Join(fmt.Errorf("open couchdb store at %s: %w", s.url, err), client.Close())
	}
	return s, nil
}

// splitPrefix takes the prefix query parameter out of rawURL.
func splitPrefix(rawURL string) (string, string, error) {
	u, err := neturl.Parse(rawURL)
	if err != nil {
		return "", "", fmt.Errorf("url %s: %w", couch.Redact(rawURL), errors.Unwrap(err))
	}
	q := u.Query()
	prefix := q.Get("prefix")
	q.Del("prefix")
	u.RawQuery = q.Encode()
	return u.String(), prefix, nil
}

// validPrefix tells whether names made of prefix are CouchDB database
// names.
func validPrefix(prefix string) bool {
	for i, r := range prefix {
		switch {
		case r >= 'a' && r <= 'z':
		case i > 0 && (r >= '0' && r <= '9' || strings.ContainsRune("_$()+-", r)):
		default:
			return false
		}
	}
	return true
}

// ensureDB creates a database unless it exists (another process may
// create it at the same time).
func ensureDB(ctx context.Context, client *kivik.Client, name string) (*kivik.DB, error) {
	ok, err := client.DBExists(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("check database %s: %w", name, err)
	}
	if !ok {
		err := client.CreateDB(ctx, name)
		if err != nil && couch.Status(err) != http.StatusPreconditionFailed {
			return nil, fmt.Errorf("create database %s: %w", name, err)
		}
	}
	db := client.DB(name)
	return db, db.Err()
}

// designDoc is a design document with map-only views.
type designDoc struct {
	ID       string          `json:"_id"`
	Rev      string          `json:"_rev,omitempty"`
	Language string          `json:"language"`
	Views    map[string]view `json:"views"`
}

type view struct {
	Map string `json:"map"`
}

// ensureDesignDoc writes want unless the database holds it already.
func ensureDesignDoc(ctx context.Context, db *kivik.DB, want designDoc) error {
	for {
		var have designDoc
		err := db.Get(ctx, want.ID).ScanDoc(&have)
		switch {
		case couch.Status(err) == http.StatusNotFound:
		case err != nil:
			return fmt.Errorf("read %s/%s: %w", db.Name(), want.ID, err)
		case have.Language == want.Language && reflect.DeepEqual(have.Views, want.Views):
			return nil
		}
		want.Rev = have.Rev
		_, err = db.Put(ctx, want.ID, want)
		if couch.Status(err) == http.StatusConflict {
			continue // another process wrote it: compare again
		}
		if err != nil {
			return fmt.Errorf("write %s/%s: %w", db.Name(), want.ID, err)
		}
		return nil
	}
}

// Close closes the client's idle connections; calls after Close fail.
func (s *Store) Close() error {
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("close couchdb store at %s: %w", s.url, err)
	}
	return nil
}

// mapStatus turns CouchDB's 404 and 409 into the store's sentinel errors.
func mapStatus(err error) error {
	switch couch.Status(err) {
	case 0:
		return nil
	case http.StatusNotFound:
		return store.ErrNotFound
	case http.StatusConflict:
		return store.ErrConflict
	}
	return err
}

// checkPart rejects an empty id part or, when it may not hold one, a part
// holding the separator '/'.
func checkPart(what, v string, slashOK bool) error {
	switch {
	case v == "":
		return fmt.Errorf("%s is missing", what)
	case !slashOK && strings.IndexByte(v, '/') >= 0:
		return fmt.Errorf("%s %q contains '/'", what, v)
	}
	return nil
}
