package proxy

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"sync"
)

const (
	streamStdout = 0
	streamStderr = 1
	logLineMax   = 64 << 10
)

var sentinelLine = []byte(Sentinel + "\n")

// logStream is one Config writer; the mutex serialises the copier and the
// proxy's own sentinel lines.
type logStream struct {
	mu sync.Mutex // guards calls to w
	w  io.Writer
}

func (ls *logStream) write(p []byte) {
	ls.mu.Lock()
	_, _ = ls.w.Write(p) // a failing log writer must not stop the action
	ls.mu.Unlock()
}

// sentinelCounter counts the sentinel lines the launcher wrote to stdout and
// stderr, so that a request can wait until its activation's logs are out.
type sentinelCounter struct {
	mu   sync.Mutex    // guards the fields below
	seen [2]uint64     // sentinels per stream
	eof  [2]bool       // the stream's copier has finished
	wake chan struct{} // made by a waiter, closed and cleared on the next change
}

func newSentinelCounter() *sentinelCounter { return &sentinelCounter{} }

func (c *sentinelCounter) update(stream int, sentinel, eof bool) {
	c.mu.Lock()
	if sentinel {
		c.seen[stream]++
	}
	if eof {
		c.eof[stream] = true
	}
	if c.wake != nil {
		close(c.wake)
		c.wake = nil
	}
	c.mu.Unlock()
}

// wait returns once both streams carried n sentinels (or ended), or ctx ends.
func (c *sentinelCounter) wait(ctx context.Context, n uint64) error {
	return c.waitUntil(ctx, func() bool {
		return (c.seen[0] >= n || c.eof[0]) && (c.seen[1] >= n || c.eof[1])
	})
}

// drained returns once both copiers have finished, or ctx ends.
func (c *sentinelCounter) drained(ctx context.Context) error {
	return c.waitUntil(ctx, func() bool { return c.eof[0] && c.eof[1] })
}

// waitUntil waits for cond, which is evaluated under mu.
func (c *sentinelCounter) waitUntil(ctx context.Context, cond func() bool) error {
	for {
		c.mu.Lock()
		if cond() {
			c.mu.Unlock()
			return nil
		}
		if c.wake == nil {
			c.wake = make(chan struct{})
		}
		wake := c.wake
		c.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// copyLog forwards r to ls line by line until r ends, counting lines that end
// with the sentinel.
func copyLog(r io.Reader, ls *logStream, c *sentinelCounter, stream int) {
	br := bufio.NewReaderSize(r, logLineMax)
	var tail []byte // the end of a line longer than the buffer, so far
	for {
		frag, err := br.ReadSlice('\n')
		if len(frag) > 0 {
			ls.write(frag)
			if frag[len(frag)-1] == '\n' {
				if endsWithSentinel(tail, frag) {
					c.update(stream, true, false)
				}
				tail = tail[:0]
			} else {
				tail = append(tail, frag...)
				if over := len(tail) - len(Sentinel); over > 0 {
					tail = append(tail[:0], tail[over:]...)
				}
			}
		}
		if err != nil && err != bufio.ErrBufferFull {
			c.update(stream, false, true)
			return
		}
	}
}

// endsWithSentinel reports whether the line tail+frag (frag ends with '\n')
// ends with the sentinel.
func endsWithSentinel(tail, frag []byte) bool {
	line := bytes.TrimRight(frag, "\r\n")
	if len(line) >= len(Sentinel) || len(tail) == 0 {
		return bytes.HasSuffix(line, sentinelLine[:len(Sentinel)])
	}
	joined := append(append(make([]byte, 0, len(tail)+len(line)), tail...), line...)
	return bytes.HasSuffix(joined, sentinelLine[:len(Sentinel)])
}

// writeSentinels writes the sentinel to both streams on the launcher's
// behalf, after it died without doing so.
func (s *Server) writeSentinels() {
	s.stdout.write(sentinelLine)
	s.stderr.write(sentinelLine)
}
