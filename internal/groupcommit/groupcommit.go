package groupcommit

import (
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
)

// laterDelay bounds how long a deferred write (Committer.Later) waits for
// a commit to ride with before it is committed on its own.
const laterDelay = 100 * time.Millisecond

// Committer shares one bbolt transaction, and so one fsync, among the
// entity writes (Put, Delete) that arrive while another commit is under
// way: group commit without a timer. The first writer to find no commit
// running commits at once, alone; writers that arrive meanwhile queue, and
// when that commit ends the first of them commits the whole queue in one
// transaction. Every writer returns only once its own write is durable
// (or failed). bbolt's DB.Batch would wait up to MaxBatchDelay for
// company; this never waits for anything but the disk.
type Committer struct {
	db *bbolt.DB

	mu      sync.Mutex // guards running, queue, parked and timer
	running bool       // a commit is under way
	queue   []*write
	// parked are deferred writes that arrived while no commit ran; the
	// next commit takes them first (they came before anything queued
	// after them), or timer commits them after laterDelay.
	parked []*write
	timer  *time.Timer

	commits atomic.Int64 // transactions committed (or failed)
}

// New returns a committer of writes to db.
func New(db *bbolt.DB) *Committer { return &Committer{db: db} }

// write is one queued write. fn must write nothing when it fails (it
// checks everything before its one Put or Delete), so that the other
// writes of its transaction commit without it.
type write struct {
	fn   func(*bbolt.Tx) error
	err  error
	done chan struct{} // closed when err is set; nil for a deferred write
	lead bool          // set before done is closed: commit the queue next
}

// Later runs fn in a coming transaction without waiting for it: in the
// next commit that starts, or in one of its own within laterDelay. A crash
// before then loses it, and a failed fn or commit is not reported: it is
// for writes whose loss is harmless (the removal of a fired outbox event,
// which a refire deduplicates). Deferred and waited-for writes commit in
// the order they arrived.
func (c *Committer) Later(fn func(*bbolt.Tx) error) {
	w := &write{fn: fn}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		c.queue = append(c.queue, w)
		return
	}
	c.parked = append(c.parked, w)
	if c.timer == nil {
		c.timer = time.AfterFunc(laterDelay, c.Flush)
	}
}

// Flush commits the parked (Later) writes, if a commit has not taken them yet.
func (c *Committer) Flush() {
	c.mu.Lock()
	c.timer = nil
	n := len(c.parked)
	c.mu.Unlock()
	if n > 0 {
		_ = c.Update(func(*bbolt.Tx) error { return nil })
	}
}

// Sync commits the deferred (Later) writes now and returns once they are
// durable, with the commit's error. With none waiting it does nothing, so
// it is safe on a committer whose database is already closed.
func (c *Committer) Sync() error {
	c.mu.Lock()
	n := len(c.parked)
	for _, q := range c.queue {
		if q.done == nil {
			n++
		}
	}
	c.mu.Unlock()
	if n == 0 {
		return nil
	}
	return c.Update(func(*bbolt.Tx) error { return nil })
}

// Update runs fn in a writable transaction, possibly shared with other
// writes, and returns once that transaction is committed. fn must write
// nothing when it returns an error.
func (c *Committer) Update(fn func(*bbolt.Tx) error) error {
	w := &write{fn: fn, done: make(chan struct{})}
	c.mu.Lock()
	if c.running {
		c.queue = append(c.queue, w)
		c.mu.Unlock()
		<-w.done
		if !w.lead {
			return w.err
		}
		// The previous commit handed the queue to this writer, which is
		// in it: commit it.
		c.mu.Lock()
	} else {
		c.running = true
		c.queue = append(c.queue, w)
	}
	batch := append(c.parked, c.queue...)
	c.parked, c.queue = nil, nil
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	c.mu.Unlock()

	c.commit(batch)

	c.mu.Lock()
	var next *write
	for _, q := range c.queue {
		if q.done != nil {
			next = q
			break
		}
	}
	if next == nil {
		// Nobody waits (only deferred writes, if any, queued): park
		// them for the next commit.
		c.running = false
		if len(c.queue) > 0 {
			c.parked, c.queue = c.queue, nil
			c.timer = time.AfterFunc(laterDelay, c.Flush)
		}
		c.mu.Unlock()
	} else {
		c.mu.Unlock()
		next.lead = true
		close(next.done)
	}
	return w.err
}

// Commits is how many transactions the committer committed (or failed).
func (c *Committer) Commits() int64 { return c.commits.Load() }

// Queued is how many writes wait for the commit under way.
func (c *Committer) Queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue)
}

// commit runs the batch's writes in one transaction. A write's own failure
// is its alone; a failed commit fails them all.
func (c *Committer) commit(batch []*write) {
	c.commits.Add(1)
	err := c.db.Update(func(tx *bbolt.Tx) error {
		for _, w := range batch {
			w.err = w.fn(tx)
		}
		return nil
	})
	for _, w := range batch {
		if err != nil {
			w.err = err
		}
		if !w.lead && w.done != nil {
			close(w.done)
		}
	}
}
