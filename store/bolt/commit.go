package bolt

import (
	"sync"
	"sync/atomic"

	"go.etcd.io/bbolt"
)

// committer shares one bbolt transaction, and so one fsync, among the
// entity writes (Put, Delete) that arrive while another commit is under
// way: group commit without a timer. The first writer to find no commit
// running commits at once, alone; writers that arrive meanwhile queue, and
// when that commit ends the first of them commits the whole queue in one
// transaction. Every writer returns only once its own write is durable
// (or failed). bbolt's DB.Batch would wait up to MaxBatchDelay for
// company; this never waits for anything but the disk.
type committer struct {
	db *bbolt.DB

	mu      sync.Mutex // guards running and queue
	running bool       // a commit is under way
	queue   []*write

	commits atomic.Int64 // transactions committed (or failed), for tests
}

// write is one queued entity write. fn must write nothing when it fails
// (it checks everything before its one Put or Delete), so that the other
// writes of its transaction commit without it.
type write struct {
	fn   func(*bbolt.Tx) error
	err  error
	done chan struct{} // closed when err is set
	lead bool          // set before done is closed: commit the queue next
}

// update runs fn in a writable transaction, possibly shared with other
// writes, and returns once that transaction is committed.
func (c *committer) update(fn func(*bbolt.Tx) error) error {
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

// commit runs the batch's writes in one transaction. A write's own failure
// is its alone; a failed commit fails them all.
func (c *committer) commit(batch []*write) {
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
