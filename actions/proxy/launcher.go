package proxy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
)

// errLauncherGone reports that the launcher stopped answering (it exited or
// closed its result pipe).
var errLauncherGone = errors.New("launcher exited")

// Reply kinds written by the launchers on fd 3 (see launcher.js).
const (
	kindResult      = 'r' // the result JSON
	kindNotObject   = 'n' // main returned something other than an object
	kindThrown      = 'e' // main threw; payload is a JSON string
	kindBadArgument = 'a' // value was not an object; payload is its JSON type name
	kindDied        = 0   // the launcher died before answering
)

// reply is one activation's answer.
type reply struct {
	kind byte
	buf  *[]byte // the whole line; payload is (*buf)[off:]; from Server.bufs
	off  int
	seq  uint64 // activations answered so far, this one included
}

func (r reply) payload() []byte { return (*r.buf)[r.off:] }

// launcher is one running launcher process and the protocol spoken with it:
// activation lines to its stdin, replies from its fd 3, logs from its stdout
// and stderr.
type launcher struct {
	pid      int
	log      *slog.Logger
	bufs     *sync.Pool
	counter  *sentinelCounter
	exited   chan struct{} // closed once the process is reaped and its group killed
	gone     chan struct{} // closed once replies ended and every pending call failed
	ack      chan *[]byte  // the init ack line; cap 1
	ready    chan struct{} // closed when the launcher reports its runtime loaded (readyLine)
	sem      chan struct{} // bounds activations in flight to 1; nil if concurrent
	stopping atomic.Bool   // Close is killing it on purpose
	acked    atomic.Bool   // it initialised the action
	nextID   atomic.Uint64

	writeMu sync.Mutex // serialises whole lines to stdin
	stdin   io.WriteCloser
	closers []io.Closer // the parent's pipe ends, closed by stop

	pendMu  sync.Mutex
	pending map[uint64]chan reply // guarded by pendMu
	ended   bool                  // guarded by pendMu; replies ended
}

// pipes are the parent's ends of a launcher's standard streams and fd 3.
type pipes struct {
	stdin          io.WriteCloser
	results        io.ReadCloser
	stdout, stderr io.ReadCloser
	extra          []io.Closer // more to close when the launcher stops
}

// osPipes are the two ends of the four pipes of a child process: stdin,
// fd 3, stdout and stderr, in that order.
type osPipes struct {
	parent, child [4]*os.File
}

// newOSPipes makes the pipes; the parent writes stdin and reads the others.
func newOSPipes() (*osPipes, error) {
	var p osPipes
	for i := range p.parent {
		r, w, err := os.Pipe()
		if err != nil {
			p.close()
			return nil, err
		}
		if i == 0 {
			p.parent[i], p.child[i] = w, r
		} else {
			p.parent[i], p.child[i] = r, w
		}
	}
	return &p, nil
}

// close closes every end still open.
func (p *osPipes) close() {
	for i := range p.parent {
		p.closeChild(i)
		if p.parent[i] != nil {
			p.parent[i].Close()
		}
	}
}

// closeChild closes the child's ends i..., once the child has them.
func (p *osPipes) closeChild(i ...int) {
	for _, i := range i {
		if p.child[i] != nil {
			p.child[i].Close()
			p.child[i] = nil
		}
	}
}

// command is a child process with the pipes as its stdin, fd 3, stdout and
// stderr, in its own process group.
func (p *osPipes) command(path string, args []string, dir string, env []string) *exec.Cmd {
	return &exec.Cmd{
		Path:        path,
		Args:        args,
		Dir:         dir,
		Env:         env,
		Stdin:       p.child[0],
		Stdout:      p.child[2],
		Stderr:      p.child[3],
		ExtraFiles:  []*os.File{p.child[1]},
		SysProcAttr: sysProcAttr(),
	}
}

// startLauncher starts the interpreter on the launcher file, in its own
// process group, with env. A launcher that reads an init line (the
// dialect's stdinInit) waits for sendInit; the others get entry and main on
// their command line. An executable runtime starts the action's executable
// at entry.
func (s *Server) startLauncher(entry, main string, env []string) (*launcher, error) {
	if s.d.executable {
		return s.startNative(entry, env)
	}
	if err := os.WriteFile(s.launcherPath(), []byte(s.d.launcher), 0o644); err != nil {
		return nil, fmt.Errorf("write launcher: %w", err)
	}
	if err := os.MkdirAll(s.codeDir(), 0o755); err != nil {
		return nil, fmt.Errorf("create code directory: %w", err)
	}
	args := []string{s.interp, s.launcherPath()}
	if !s.d.stdinInit {
		args = append(args, entry, main)
	}
	return s.startProcess(args, s.codeDir(), env)
}

// startProcess starts the launcher args in dir, in its own process group,
// with the launcher protocol on its pipes.
func (s *Server) startProcess(args []string, dir string, env []string) (*launcher, error) {
	p, err := newOSPipes()
	if err != nil {
		return nil, fmt.Errorf("start launcher: pipe: %w", err)
	}
	cmd := p.command(s.interp, args, dir, env)
	err = s.adjust(cmd)
	if err == nil {
		err = cmd.Start()
	}
	p.closeChild(0, 1, 2, 3)
	if err != nil {
		p.close()
		return nil, fmt.Errorf("start launcher %s: %w", s.interp, err)
	}
	l := s.newLauncher(cmd.Process.Pid, pipes{p.parent[0], p.parent[1], p.parent[2], p.parent[3], nil})
	go l.watch(cmd)
	return l, nil
}

// prestart starts the launcher with the base environment and keeps it as
// the spare that the first /init takes (Config.Prestart).
func (s *Server) prestart() error {
	l, err := s.startLauncher("", "", s.launcherEnv(nil))
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.spare = l
	s.mu.Unlock()
	return nil
}

// spareStarting reports whether a prestarted launcher is still loading its
// runtime: it runs and has not written its ready line.
func (s *Server) spareStarting() bool {
	s.mu.Lock()
	l := s.spare
	s.mu.Unlock()
	if l == nil {
		return false
	}
	select {
	case <-l.ready:
		return false
	case <-l.gone:
		return false
	default:
		return true
	}
}

// takeSpare returns the prestarted launcher if it still runs, and forgets
// it either way; nil when there is none to take.
func (s *Server) takeSpare() *launcher {
	s.mu.Lock()
	l := s.spare
	s.spare = nil
	s.mu.Unlock()
	if l == nil {
		return nil
	}
	select {
	case <-l.exited:
	case <-l.gone:
	default:
		return l
	}
	l.stop()
	return nil
}

// initLine is the first line a launcher reads on stdin: what to load, from
// where, and the action's own environment.
type initLine struct {
	Entry string            `json:"entry"`
	Main  string            `json:"main"`
	Dir   string            `json:"dir"`
	Env   map[string]string `json:"env"`
}

// sendInit tells the launcher which action to load.
func (l *launcher) sendInit(line initLine) error {
	b, err := json.Marshal(line)
	if err != nil {
		return fmt.Errorf("encode init line: %w", err)
	}
	l.writeMu.Lock()
	_, err = l.stdin.Write(append(b, '\n'))
	l.writeMu.Unlock()
	if err != nil {
		return fmt.Errorf("send init to launcher: %w", err)
	}
	return nil
}

// adjust applies Config.Command to a child about to start.
func (s *Server) adjust(cmd *exec.Cmd) error {
	if s.cfg.Command == nil {
		return nil
	}
	return s.cfg.Command(cmd)
}

// watch reaps the process, kills what the action left behind in its group,
// closes onExit and then l.exited.
func (l *launcher) watch(cmd *exec.Cmd, onExit ...io.Closer) {
	var err error
	if waitUntilExited(l.pid) {
		killGroup(l.pid)
		err = cmd.Wait()
	} else {
		err = cmd.Wait()
		killGroup(l.pid)
	}
	for _, c := range onExit {
		c.Close()
	}
	if l.acked.Load() && !l.stopping.Load() {
		l.log.Warn("launcher exited", "pid", l.pid, "err", err)
	}
	close(l.exited)
}

// newLauncher wires the protocol to p and starts the goroutines that read
// replies and logs; they end when the pipes end.
func (s *Server) newLauncher(pid int, p pipes) *launcher {
	l := &launcher{
		pid:     pid,
		log:     s.log,
		bufs:    &s.bufs,
		counter: newSentinelCounter(),
		exited:  make(chan struct{}),
		gone:    make(chan struct{}),
		ack:     make(chan *[]byte, 1),
		ready:   make(chan struct{}),
		stdin:   p.stdin,
		closers: append([]io.Closer{p.stdin, p.results, p.stdout, p.stderr}, p.extra...),
		pending: make(map[uint64]chan reply),
	}
	if !s.d.concurrent {
		l.sem = make(chan struct{}, 1)
	}
	go copyLog(p.stdout, s.stdout, l.counter, streamStdout)
	go copyLog(p.stderr, s.stderr, l.counter, streamStderr)
	go l.readReplies(p.results)
	return l
}

// stop kills the launcher's process group, waits for it and releases the
// pipes, which ends the reader goroutines.
func (l *launcher) stop() {
	l.stopping.Store(true)
	killGroup(l.pid)
	<-l.exited
	for _, c := range l.closers {
		c.Close()
	}
	<-l.gone
}

// call sends one activation frame ("<id> <json>\n") and waits for its reply.
func (l *launcher) call(ctx context.Context, id uint64, frame []byte) (reply, error) {
	if l.sem != nil {
		select {
		case l.sem <- struct{}{}:
		case <-l.gone:
			return reply{}, errLauncherGone
		case <-ctx.Done():
			return reply{}, ctx.Err()
		}
	}
	ch := make(chan reply, 1)
	l.pendMu.Lock()
	if l.ended {
		l.pendMu.Unlock()
		l.release()
		return reply{}, errLauncherGone
	}
	l.pending[id] = ch
	l.pendMu.Unlock()

	l.writeMu.Lock()
	_, err := l.stdin.Write(frame)
	l.writeMu.Unlock()
	if err != nil {
		l.forget(id)
		l.release()
		return reply{}, fmt.Errorf("send activation to launcher: %w: %w", errLauncherGone, err)
	}
	select {
	case rep := <-ch:
		if rep.kind == kindDied {
			return reply{}, errLauncherGone
		}
		return rep, nil
	case <-ctx.Done():
		l.forget(id)
		return reply{}, ctx.Err()
	}
}

func (l *launcher) forget(id uint64) {
	l.pendMu.Lock()
	delete(l.pending, id)
	l.pendMu.Unlock()
}

// release frees the in-flight slot of a sequential launcher.
func (l *launcher) release() {
	if l.sem == nil {
		return
	}
	select {
	case <-l.sem:
	default:
	}
}

// readReplies reads fd 3: the ready line (interpreted runtimes), the init
// ack, then "<id> <kind> <json>" lines,
// handing each to its caller. When the pipe ends it fails every caller.
func (l *launcher) readReplies(r io.Reader) {
	br := bufio.NewReaderSize(r, 64<<10)
	var answered uint64
	var ready, acked bool
	for {
		buf := l.bufs.Get().(*[]byte)
		if err := readLine(br, buf); err != nil {
			putBuf(l.bufs, buf)
			break
		}
		if !ready && !acked && bytes.Equal(*buf, readyLine) {
			ready = true
			close(l.ready)
			putBuf(l.bufs, buf)
			continue
		}
		if !acked {
			acked = true
			l.ack <- buf
			continue
		}
		id, kind, off, ok := parseReply(*buf)
		if !ok {
			l.log.Error("launcher wrote a malformed reply", "line", truncate(*buf, 200))
			putBuf(l.bufs, buf)
			continue
		}
		if kind != kindBadArgument {
			answered++
		}
		l.release()
		l.pendMu.Lock()
		ch := l.pending[id]
		delete(l.pending, id)
		l.pendMu.Unlock()
		if ch == nil { // its caller gave up
			putBuf(l.bufs, buf)
			continue
		}
		ch <- reply{kind: kind, buf: buf, off: off, seq: answered}
	}
	l.pendMu.Lock()
	l.ended = true
	for id, ch := range l.pending {
		ch <- reply{kind: kindDied}
		delete(l.pending, id)
	}
	l.pendMu.Unlock()
	close(l.gone)
}

// readyLine is what the Node.js and Python launchers write on fd 3 once
// their runtime is loaded, before they read the init line.
var readyLine = []byte(`{"ready":true}`)

// parseReply splits "<id> <kind> <json>".
func parseReply(line []byte) (id uint64, kind byte, off int, ok bool) {
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 || len(line) < sp+4 || line[sp+2] != ' ' {
		return 0, 0, 0, false
	}
	id, err := strconv.ParseUint(string(line[:sp]), 10, 64)
	if err != nil {
		return 0, 0, 0, false
	}
	switch kind = line[sp+1]; kind {
	case kindResult, kindNotObject, kindThrown, kindBadArgument:
		return id, kind, sp + 3, true
	}
	return 0, 0, 0, false
}

// readLine reads one line without its '\n' into *dst, whatever its length.
func readLine(br *bufio.Reader, dst *[]byte) error {
	b := (*dst)[:0]
	for {
		frag, err := br.ReadSlice('\n')
		b = append(b, frag...)
		switch {
		case err == nil:
			*dst = b[:len(b)-1]
			return nil
		case err != bufio.ErrBufferFull:
			*dst = b
			return err
		}
	}
}

// putBuf returns a buffer to the pool unless it grew too large to keep.
func putBuf(p *sync.Pool, b *[]byte) {
	if cap(*b) > 1<<20 {
		return
	}
	*b = (*b)[:0]
	p.Put(b)
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
