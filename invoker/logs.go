package invoker

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// Sentinel is the line an action runtime prints to stdout and to stderr
// after each activation.
const Sentinel = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX"

// LogCollector receives a container's stdout and stderr, stamps each line and
// hands the lines of one activation to Collect once both streams have printed
// the sentinel. Lines a stream prints after its sentinel belong to the next
// activation.
type LogCollector struct {
	now func() time.Time

	mu      sync.Mutex // guards the fields below
	seq     uint64
	limit   int
	streams [2]streamLog
	changed chan struct{} // closed and replaced when a sentinel arrives
}

// streamLog is one stream's lines, cut into segments at each sentinel; the
// last segment is still open.
type streamLog struct {
	segments []segment
	held     int    // the sum of the segments' sizes: what the stream holds
	partial  []byte // the open line, at most capacity+1+len(Sentinel) bytes of it
	tail     []byte // the open line's last len(Sentinel) bytes
	over     bool   // the open line is longer than partial holds
}

type segment struct {
	lines     []logLine
	size      int  // the bytes of the stamped lines
	truncated bool // a line was dropped for the size limit
}

type logLine struct {
	seq  uint64
	text string
}

// NewLogCollector returns an empty collector.
func NewLogCollector() *LogCollector {
	lc := &LogCollector{now: time.Now, changed: make(chan struct{}), limit: -1}
	for i := range lc.streams {
		lc.streams[i].segments = []segment{{}}
	}
	return lc
}

type streamWriter struct {
	lc     *LogCollector
	stream int
}

var streamNames = [2]string{"stdout", "stderr"}

// Stdout is the writer for the container's standard output.
func (lc *LogCollector) Stdout() io.Writer { return streamWriter{lc, 0} }

// Stderr is the writer for the container's standard error.
func (lc *LogCollector) Stderr() io.Writer { return streamWriter{lc, 1} }

func (w streamWriter) Write(p []byte) (int, error) {
	w.lc.write(w.stream, p)
	return len(p), nil
}

// maxBufferedLog bounds what a collector keeps of a stream when no limit
// was given (Start(-1), or output between activations): the largest log
// limit OpenWhisk allows.
const maxBufferedLog = 10 << 20

// maxPendingSegments bounds the segments a stream keeps: a runtime prints
// one sentinel an activation, so more than its concurrency (at most 500
// by default) are an action printing sentinels itself; past the bound its
// sentinels end no segment (its later activations' lines run together)
// rather than cost memory each.
const maxPendingSegments = 4096

// maxStreamLog bounds what a stream holds over all its segments: each
// activation's segment is bounded by the log limit, and the activations
// of a concurrent action, or what a container prints after its
// sentinels, share this.
const maxStreamLog = 32 << 20

// stampedOverhead is what the stamp and the stream name add to a line in
// the activation record ("<RFC 3339 time> stdout: ").
const stampedOverhead = len("2006-01-02T15:04:05.000000000Z stdout: ")

// capacity is the most bytes one segment keeps: a line counts as the
// stamped line the record holds, so that empty lines are not free; mu is
// held.
func (lc *LogCollector) capacity() int {
	if lc.limit >= 0 {
		return lc.limit
	}
	return maxBufferedLog
}

// write splits p into lines. A line longer than the capacity keeps only its
// first capacity+1 bytes and room for a sentinel (which then exceed the
// limit: Collect reports the truncation), and its last bytes, to see a
// sentinel at its end: the memory
// a container's output takes is bounded whatever it prints.
func (lc *LogCollector) write(stream int, p []byte) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	st := &lc.streams[stream]
	for len(p) > 0 {
		chunk, rest, nl := bytes.Cut(p, []byte{'\n'})
		st.tail = keepTail(st.tail, chunk)
		keep := lc.capacity() + 1 + len(Sentinel)
		if room := keep - len(st.partial); room > 0 {
			st.partial = append(st.partial, chunk[:min(room, len(chunk))]...)
		}
		if len(st.partial) >= keep {
			st.over = true
		}
		if !nl {
			return
		}
		lc.endLine(stream)
		p = rest
	}
}

// keepTail appends b to tail and keeps the last len(Sentinel) bytes.
func keepTail(tail, b []byte) []byte {
	if len(b) >= len(Sentinel) {
		return append(tail[:0], b[len(b)-len(Sentinel):]...)
	}
	tail = append(tail, b...)
	if over := len(tail) - len(Sentinel); over > 0 {
		tail = append(tail[:0], tail[over:]...)
	}
	return tail
}

// endLine ends the stream's partial line: a line that ends with the
// sentinel ends the activation's segment after what came before it on the
// line. mu is held.
func (lc *LogCollector) endLine(stream int) {
	st := &lc.streams[stream]
	line, sentinel := st.partial, string(st.tail) == Sentinel
	if sentinel && !st.over {
		line = line[:len(line)-len(Sentinel)]
	}
	if len(line) > 0 || !sentinel {
		lc.addLine(stream, line)
	}
	if sentinel && len(st.segments) < maxPendingSegments {
		st.segments = append(st.segments, segment{})
		close(lc.changed)
		lc.changed = make(chan struct{})
	}
	st.partial, st.tail, st.over = st.partial[:0], st.tail[:0], false
	if cap(st.partial) > 64<<10 {
		st.partial = nil // do not keep a huge line's buffer
	}
}

// addLine is called with mu held.
func (lc *LogCollector) addLine(stream int, line []byte) {
	st := &lc.streams[stream]
	open := &st.segments[len(st.segments)-1]
	cost := stampedOverhead + len(line)
	if open.truncated || open.size+cost > lc.capacity() || st.held+cost > maxStreamLog {
		open.truncated = true // Collect reports the truncation
		return
	}
	lc.seq++
	text := lc.stamp() + " " + streamNames[stream] + ": " + string(line)
	open.lines = append(open.lines, logLine{seq: lc.seq, text: text})
	open.size += cost
	st.held += cost
}

func (lc *LogCollector) stamp() string {
	return lc.now().UTC().Format("2006-01-02T15:04:05.000000000Z")
}

// Start begins an activation's logs with a size limit in bytes (-1: none).
func (lc *LogCollector) Start(limit int) {
	lc.mu.Lock()
	lc.limit = limit
	lc.mu.Unlock()
}

// Collect waits until both streams have printed the sentinel (or ctx ends)
// and returns the activation's lines in the order they arrived. complete is
// false when ctx ended first; then everything printed so far is returned.
func (lc *LogCollector) Collect(ctx context.Context) (lines []string, complete bool) {
	for {
		lc.mu.Lock()
		if len(lc.streams[0].segments) > 1 && len(lc.streams[1].segments) > 1 {
			return lc.takeLocked(), true
		}
		changed := lc.changed
		lc.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			lc.mu.Lock()
			return lc.takeLocked(), false
		}
	}
}

// takeLocked removes each stream's first segment and merges them in arrival
// order, cut at the size limit; it unlocks mu.
func (lc *LogCollector) takeLocked() []string {
	var a, b segment
	a, lc.streams[0].segments = lc.streams[0].segments[0], nextSegments(lc.streams[0].segments)
	b, lc.streams[1].segments = lc.streams[1].segments[0], nextSegments(lc.streams[1].segments)
	lc.streams[0].held -= a.size
	lc.streams[1].held -= b.size
	limit := lc.limit
	lc.limit = -1
	lc.mu.Unlock()
	out := make([]string, 0, len(a.lines)+len(b.lines))
	size, truncated := 0, false
	for i, j := 0, 0; i < len(a.lines) || j < len(b.lines); {
		var l logLine
		if j >= len(b.lines) || (i < len(a.lines) && a.lines[i].seq < b.lines[j].seq) {
			l, i = a.lines[i], i+1
		} else {
			l, j = b.lines[j], j+1
		}
		n := len(l.text)
		if limit >= 0 && size+n > limit {
			truncated = true
			break
		}
		size += n
		out = append(out, l.text)
	}
	if limit >= 0 && (truncated || a.truncated || b.truncated) {
		out = append(out, fmt.Sprintf("%s stderr: Logs were truncated because the total bytes size exceeds the limit of %d bytes.", lc.stamp(), limit))
	}
	return out
}

// nextSegments drops the first segment, keeping at least an open one.
func nextSegments(segs []segment) []segment {
	if len(segs) > 1 {
		return segs[1:]
	}
	return []segment{{}}
}
