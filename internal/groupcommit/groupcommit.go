package groupcommit

import (
	"sync"
	"sync/atomic"

	"go.etcd.io/bbolt"
)

// Committer group-commits the writes to one bbolt file.
type Committer struct {
	db *bbolt.DB

	mu      sync.Mutex // guards running and queue
	running bool       // a commit is under way
	queue   []*write

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
	done chan struct{} // closed when err is set
	lead bool          // set before done is closed: commit the queue next
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
	batch := c.queue
	c.queue = nil
	c.mu.Unlock()

	c.commit(batch)

	c.mu.Lock()
	if len(c.queue) == 0 {
		c.running = false
		c.mu.Unlock()
	} else {
		next := c.queue[0]
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
		if !w.lead {
			close(w.done)
		}
	}
}
