package bolt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"github.com/wispio/wisp/internal/groupcommit"
	"github.com/wispio/wisp/store"
)

// Options configure Open.
type Options struct {
	// Timeout bounds the wait for the file lock that another process holds;
	// 0 waits forever.
	Timeout time.Duration
	// NoSync skips the fsync after each commit: much faster writes, but a
	// crash of the machine may lose the last ones. For tests and benchmarks.
	NoSync bool
	// Log receives a warning for each record a list skips because it
	// cannot be decoded; nil is slog.Default().
	Log *slog.Logger
}

// Store is a store.Store in one bbolt file; see the package doc. It is safe
// for concurrent use: bbolt runs any number of readers beside one writer.
type Store struct {
	db  *bbolt.DB
	log *slog.Logger
	// writes commits entity Puts and Deletes, several to a transaction
	// when they come at once (group commit).
	writes *groupcommit.Committer
	// undecodable counts the records lists skipped (store.SkipCounter).
	undecodable atomic.Int64
}

var (
	_ store.Store       = (*Store)(nil)
	_ store.SkipCounter = (*Store)(nil)
)

// Open opens or creates the store file at path.
func Open(path string, opts Options) (*Store, error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout: opts.Timeout,
		NoSync:  opts.NoSync,
		// The map freelist stays fast as the file grows; not syncing it
		// saves a page write per commit at the cost of a scan on open.
		FreelistType:   bbolt.FreelistMapType,
		NoFreelistSync: true,
		// Statistics take a global mutex in every read transaction.
		NoStatistics: true,
	})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := db.Update(initLayout); err != nil {
		return nil, errors.Join(fmt.Errorf("open %s: %w", path, err), db.Close())
	}
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	return &Store{db: db, log: log, writes: groupcommit.New(db)}, nil
}

// Undecodable is how many records lists skipped because they could not
// be decoded; see store.SkipCounter.
func (s *Store) Undecodable() int64 { return s.undecodable.Load() }

// skipped logs and counts a record a list leaves out.
func (s *Store) skipped(what string, key []byte, err error) {
	s.undecodable.Add(1)
	s.log.Warn("store: list skips a record that cannot be decoded", "what", what, "key", fmt.Sprintf("%q", key), "err", err)
}

// initLayout creates the buckets of a new file and checks the layout
// version of an existing one.
func initLayout(tx *bbolt.Tx) error {
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	meta := tx.Bucket(bucketMeta)
	switch v := meta.Get([]byte("version")); {
	case v == nil:
		return meta.Put([]byte("version"), []byte(layoutVersion))
	case string(v) != layoutVersion:
		return fmt.Errorf("the file has layout version %s; this wisp reads version %s", v, layoutVersion)
	}
	return nil
}

// Close commits the deferred deletes (DeleteLater) and closes the file;
// calls after Close fail.
func (s *Store) Close() error {
	s.writes.Flush()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close %s: %w", s.db.Path(), err)
	}
	return nil
}

// checkName rejects an empty key part or one holding the separator byte,
// which would let one key pass for another.
func checkName(what, v string) error {
	if v == "" {
		return fmt.Errorf("%s is missing", what)
	}
	if strings.IndexByte(v, 0) >= 0 {
		return fmt.Errorf("%s %q contains a NUL byte", what, v)
	}
	return nil
}

// ctxCheckEvery is how many keys a scan visits between context checks.
const ctxCheckEvery = 256

// scanCancelled reports ctx's error every ctxCheckEvery-th step n.
func scanCancelled(ctx context.Context, n int) error {
	if n%ctxCheckEvery != 0 {
		return nil
	}
	return ctx.Err()
}
