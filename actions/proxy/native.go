package proxy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// The native runtime runs the action's own executable, which speaks
// OpenWhisk's ActionLoop protocol (apache/openwhisk-runtime-go,
// openwhisk/executor.go): it reads one activation per line on stdin, the
// whole /run body as JSON, and answers each with one line on fd 3, a JSON
// object or array. Its stdout and stderr are the action's logs; it writes no
// sentinels, the proxy does after each answer. When OW_WAIT_FOR_ACK is set
// (non-empty) it first writes {"ok":true} on fd 3, and finds
// __OW_WAIT_FOR_ACK in its environment to know it must; otherwise the proxy
// only checks that it is still running a moment after its start.
//
// The rest of the proxy speaks the launcher framing (launcher.go) to an
// in-process adapter, actionLoop, which translates.

const (
	// nativeExec is the executable's file name in the code directory.
	nativeExec = "exec"
	// nativeStartGrace is how long an executable that sends no
	// acknowledgement must survive its start to count as initialised; the
	// ActionLoop proxy waits as long.
	nativeStartGrace = 5 * time.Millisecond
	envWaitForAck    = "OW_WAIT_FOR_ACK"
)

// startNative starts the executable at path, in its own process group, and
// the adapter between it and the launcher protocol.
func (s *Server) startNative(path string, env []string) (*launcher, error) {
	ack := lastEnv(env, envWaitForAck)
	if ack != "" {
		env = append(env, "__"+envWaitForAck+"="+ack)
	}
	p, err := newOSPipes()
	if err != nil {
		return nil, fmt.Errorf("start %s: pipe: %w", nativeExec, err)
	}
	cmd := p.command(path, []string{path}, s.codeDir(), env)
	err = s.adjust(cmd)
	if err == nil {
		err = cmd.Start()
	}
	p.closeChild(0, 1)
	if err != nil {
		p.close()
		return nil, nativeStartError(err)
	}
	// The parent keeps the write ends of the executable's stdout and stderr
	// to append the sentinels after its output; they close when it exits.
	framesR, framesW := io.Pipe()
	repliesR, repliesW := io.Pipe()
	l := s.newLauncher(cmd.Process.Pid, pipes{
		stdin: framesW, results: repliesR, stdout: p.parent[2], stderr: p.parent[3],
		extra: []io.Closer{p.parent[0], p.parent[1]},
	})
	go l.watch(cmd, p.child[2], p.child[3])
	a := &actionLoop{
		pid:     l.pid,
		frames:  framesR,
		replies: repliesW,
		stdin:   p.parent[0],
		results: bufio.NewReaderSize(p.parent[1], 64<<10),
		stdout:  p.child[2],
		stderr:  p.child[3],
		ack:     ack != "",
		grace:   s.startGrace,
		exited:  l.exited,
	}
	go a.run()
	return l, nil
}

// lastEnv returns the value of the last name=value entry of env, or "".
func lastEnv(env []string, name string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], name+"="); ok {
			return v
		}
	}
	return ""
}

// nativeStartError explains why the executable could not be started.
func nativeStartError(err error) error {
	switch {
	case errors.Is(err, syscall.ENOEXEC):
		return fmt.Errorf("%s is neither an executable for %s/%s nor a script starting with #! (exec format error)", nativeExec, runtime.GOOS, runtime.GOARCH)
	case errors.Is(err, syscall.ENOENT):
		return fmt.Errorf("%s needs an interpreter (its #! line) or a dynamic loader that is missing here (no such file or directory)", nativeExec)
	case errors.Is(err, syscall.EACCES):
		return fmt.Errorf("%s may not be executed here (permission denied)", nativeExec)
	}
	return fmt.Errorf("start %s: %w", nativeExec, err)
}

// actionLoop translates between the launcher framing, spoken with
// launcher.call and launcher.readReplies over in-process pipes, and the
// ActionLoop protocol of one executable. Its goroutine, run, owns every
// field; it handles one activation at a time.
type actionLoop struct {
	pid     int
	frames  *io.PipeReader // "<id> <json>" lines
	replies *io.PipeWriter // the init ack, then "<id> <kind> <json>" lines
	stdin   io.Writer      // the executable's stdin
	results *bufio.Reader  // the executable's fd 3
	// stdout and stderr are the write ends of the executable's log pipes.
	stdout, stderr io.Writer
	ack            bool // wait for {"ok":true} rather than grace
	// sent names the activation fields (api_key, ...) some activation was
	// given so far.
	sent   map[string]bool
	grace  time.Duration // see nativeStartGrace
	exited <-chan struct{}
}

// run serves until either side ends. Ending the reply stream makes the
// launcher gone; an executable that broke the protocol while running is
// killed, so that its logs end too.
func (a *actionLoop) run() {
	err := a.serve()
	a.frames.CloseWithError(errLauncherGone)
	a.replies.Close()
	if err != nil {
		select {
		case <-a.exited:
		default:
			killGroup(a.pid)
		}
	}
}

// serve acknowledges the start, then forwards activations and their
// results. It returns nil when the launcher side closes.
func (a *actionLoop) serve() error {
	if err := a.handshake(); err != nil {
		return err
	}
	frames := bufio.NewReaderSize(a.frames, 64<<10)
	var frame, result, reply []byte
	for {
		if err := readLine(frames, &frame); err != nil {
			return nil
		}
		id, body, ok := bytes.Cut(frame, []byte{' '})
		if !ok {
			return fmt.Errorf("malformed frame %q", truncate(frame, 40))
		}
		body = a.clearStale(body)
		if _, err := a.stdin.Write(append(body, '\n')); err != nil {
			return fmt.Errorf("send the activation to %s: %w", nativeExec, err)
		}
		if err := readLine(a.results, &result); err != nil {
			return fmt.Errorf("read the result of %s: %w", nativeExec, err)
		}
		result = bytes.TrimRight(result, " \t\r")
		kind := byte(kindResult)
		if !isObjectOrArray(result) {
			fmt.Fprintf(a.stderr, "The action's result is not a JSON object or array: %s\n", truncate(result, 200))
			kind, result = kindNotObject, append(result[:0], "{}"...)
		}
		a.writeSentinels()
		reply = append(append(reply[:0], id...), ' ', kind, ' ')
		reply = append(append(reply, result...), '\n')
		if _, err := a.replies.Write(reply); err != nil {
			return nil // the launcher side closed
		}
	}
}

// clearStale adds "field": "" to the activation body for each field an
// earlier activation had and this one has not: an ActionLoop executable
// exports the fields as __OW_* variables and never unsets one, so without
// it an activation would see an earlier one's API key.
func (a *actionLoop) clearStale(body []byte) []byte {
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return body
	}
	if a.sent == nil {
		a.sent = map[string]bool{}
	}
	var missing []string
	for k := range a.sent {
		if _, ok := fields[k]; !ok {
			missing = append(missing, k)
		}
	}
	for k := range fields {
		if k != "value" {
			a.sent[k] = true
		}
	}
	if len(missing) == 0 {
		return body
	}
	i := bytes.IndexByte(body, '{') + 1
	out := append(make([]byte, 0, len(body)+32*len(missing)), body[:i]...)
	for _, k := range missing {
		key, _ := json.Marshal(k) // a string always marshals
		out = append(append(out, key...), `:"",`...)
	}
	return append(out, body[i:]...)
}

// handshake waits for the executable's acknowledgement, or lets the grace
// period pass, and acknowledges the init to the launcher side.
func (a *actionLoop) handshake() error {
	if !a.ack {
		t := time.NewTimer(a.grace)
		defer t.Stop()
		select {
		case <-a.exited:
			return errors.New("exited at start")
		case <-t.C:
		}
		_, err := a.replies.Write(okBody)
		return err
	}
	var line []byte
	if err := readLine(a.results, &line); err != nil {
		return fmt.Errorf("read the acknowledgement of %s: %w", nativeExec, err)
	}
	var ack struct {
		OK bool `json:"ok"`
	}
	if json.Unmarshal(line, &ack) != nil || !ack.OK {
		detail := fmt.Sprintf(`The action did not initialize properly: it acknowledged with %s rather than {"ok":true}.`, truncate(line, 200))
		fmt.Fprintln(a.stderr, detail)
		a.writeSentinels()
		b, _ := json.Marshal(struct {
			Error string `json:"error"`
		}{detail}) // a struct of one string always marshals
		_, _ = a.replies.Write(append(b, '\n'))
		return errors.New("bad acknowledgement")
	}
	_, err := a.replies.Write(okBody)
	return err
}

// writeSentinels ends the activation's logs after what the executable wrote
// so far: the pipes keep the order.
func (a *actionLoop) writeSentinels() {
	_, _ = a.stdout.Write(sentinelLine) // closed once the executable exited
	_, _ = a.stderr.Write(sentinelLine)
}

// isObjectOrArray reports whether b is one JSON object or array.
func isObjectOrArray(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && (b[0] == '{' || b[0] == '[') && json.Valid(b)
}
