package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

var okBody = []byte(`{"ok":true}` + "\n")

// handleInit answers POST /init: it writes the code, starts the launcher and
// waits for its ack. A 4xx answer leaves the Server uninitialised; any other
// failure leaves it failed for good.
func (s *Server) handleInit(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	st := state(s.state.Load())
	if st != stateNew {
		s.mu.Unlock()
		a := answer{http.StatusForbidden, msgReinit}
		switch st {
		case stateFailed:
			a = s.d.reinitFailed
		case stateClosed:
			a = answer{http.StatusServiceUnavailable, "proxy closed"}
		}
		sendError(w, a.status, a.msg)
		return
	}
	s.state.Store(int32(stateStarting))
	s.mu.Unlock()

	a := s.initialise(r.Context(), r.Body)
	switch {
	case a.status == http.StatusOK:
		if !s.transition(stateStarting, stateReady) { // closed meanwhile
			sendError(w, http.StatusServiceUnavailable, "proxy closed")
			return
		}
		writeJSON(w, http.StatusOK, okBody)
	case a.status < 500:
		s.transition(stateStarting, stateNew)
		sendError(w, a.status, a.msg)
	default:
		s.transition(stateStarting, stateFailed)
		sendError(w, a.status, a.msg)
	}
}

// initialise does the work of /init and returns its answer. On any failure
// after the launcher started, the launcher is stopped.
func (s *Server) initialise(ctx context.Context, body io.Reader) answer {
	raw, err := readAll(body, s.cfg.MaxBodyBytes)
	if err != nil {
		return bodyError(err)
	}
	req, err := parseInit(raw)
	if err != nil {
		return answer{http.StatusBadRequest, "Error unmarshaling request: " + err.Error()}
	}
	v := req.Value
	if v.Code == "" {
		return answer{http.StatusForbidden, msgMissingCode}
	}
	start := time.Now()
	a := s.launch(ctx, &v)
	log := s.log.With("action", v.Name, "main", v.Main, "duration", time.Since(start))
	if a.status == http.StatusOK {
		log.Debug("action initialised")
	} else {
		log.Info("action initialisation failed", "status", a.status, "error", a.msg)
	}
	return a
}

// launch writes the code, starts the launcher and waits for its ack.
func (s *Server) launch(ctx context.Context, v *initValue) answer {
	data, isZip, err := decodeCode(v.Code, v.Binary)
	if err != nil {
		return s.d.decodeError(err)
	}
	entry, err := s.prepareFiles(data, isZip && !s.d.keepArchive)
	if err != nil {
		s.logInitError(err)
		if _, ok := errors.AsType[*missingEntryError](err); ok {
			return answer{http.StatusBadGateway, s.d.initError(err.Error(), true)}
		}
		return answer{http.StatusBadGateway, s.d.archiveError}
	}
	actionEnv := s.actionEnv(v.Env)
	if s.d.build != nil {
		if entry, err = s.d.build(ctx, s, entry, v.Main, append(s.launcherEnv(nil), actionEnv...)); err != nil {
			s.logInitError(err)
			return answer{http.StatusBadGateway, s.d.initError(err.Error(), true)}
		}
	}
	var l *launcher
	if s.d.prestart {
		l, err = s.initPrestarted(entry, v.Main, v.Env)
	} else {
		l, err = s.launcherFor(entry, v.Main, actionEnv)
	}
	if err != nil {
		s.logInitError(err)
		return answer{http.StatusBadGateway, s.d.initError(err.Error(), false)}
	}
	s.mu.Lock()
	closed := state(s.state.Load()) == stateClosed
	s.l = l
	s.mu.Unlock()
	if closed {
		l.stop()
		return answer{http.StatusServiceUnavailable, "proxy closed"}
	}
	if s.d.stdinInit {
		if err := l.sendInit(initLine{Entry: entry, Main: v.Main, Dir: s.codeDir(), Env: envMap(actionEnv)}); err != nil {
			// The launcher is gone: awaitAck reports it as it died.
			s.log.Debug("send init", "err", err)
		}
	}
	a := s.awaitAck(ctx, l)
	if a.status != http.StatusOK {
		l.stop()
		return a
	}
	go func() {
		<-l.exited
		s.transition(stateReady, stateDead)
	}()
	return a
}

// logInitError writes an init failure the proxy found itself to the action's
// stderr, then the sentinels, as a launcher does for the errors it finds.
func (s *Server) logInitError(err error) {
	s.stderr.write([]byte(err.Error() + "\n"))
	s.writeSentinels()
}

// awaitAck waits for the launcher's first line on fd 3.
func (s *Server) awaitAck(ctx context.Context, l *launcher) answer {
	select {
	case buf := <-l.ack:
		defer putBuf(&s.bufs, buf)
		var ack struct {
			OK      bool   `json:"ok"`
			Error   string `json:"error"`
			Compile bool   `json:"compile"`
		}
		if err := json.Unmarshal(*buf, &ack); err != nil || (!ack.OK && ack.Error == "") {
			return answer{http.StatusBadGateway, s.d.initError("bad launcher acknowledgement: "+truncate(*buf, 200), false)}
		}
		if ack.OK {
			l.acked.Store(true)
			return answer{status: http.StatusOK}
		}
		_ = l.counter.wait(ctx, 1) // the launcher logged the error and the sentinels first
		return answer{http.StatusBadGateway, s.d.initError(ack.Error, ack.Compile)}
	case <-l.gone:
		killGroup(l.pid)
		if l.counter.drained(ctx) == nil {
			s.writeSentinels()
		}
		return answer{http.StatusBadGateway, s.d.initDied}
	case <-ctx.Done():
		return answer{http.StatusServiceUnavailable, fmt.Sprintf("init abandoned: %v", ctx.Err())}
	}
}

// prepareFiles writes the action's code into WorkDir.
func (s *Server) prepareFiles(data []byte, isZip bool) (string, error) {
	if err := resetDir(s.codeDir()); err != nil {
		return "", fmt.Errorf("create code directory: %w", err)
	}
	lim := zipLimits{maxBytes: s.cfg.MaxUnzipBytes, maxFiles: s.cfg.MaxUnzipFiles}
	return writeCode(s.d, s.codeDir(), data, isZip, lim)
}

// launcherFor returns the launcher for the action at entry: the
// prestarted one when it still runs, else a new one whose environment
// already holds the action's env.
func (s *Server) launcherFor(entry, main string, actionEnv []string) (*launcher, error) {
	if s.d.stdinInit {
		if l := s.takeSpare(); l != nil {
			return l, nil
		}
	}
	return s.startLauncher(entry, main, append(s.launcherEnv(nil), actionEnv...))
}

// launcherEnv is the base environment plus the action's env (actionEnv).
func (s *Server) launcherEnv(extra map[string]json.RawMessage) []string {
	env := make([]string, 0, len(s.cfg.Env)+len(s.d.extraEnv)+len(extra))
	env = append(env, s.cfg.Env...)
	env = append(env, s.d.extraEnv...)
	return append(env, s.actionEnv(extra)...)
}

// actionEnv turns the /init env into KEY=value pairs: strings as they are,
// null as empty, anything else as its JSON text. Keys that cannot be
// environment variables are dropped.
func (s *Server) actionEnv(extra map[string]json.RawMessage) []string {
	env := make([]string, 0, len(extra))
	for k, raw := range extra {
		val := string(bytes.TrimSpace(raw))
		var str string
		switch {
		case val == "null":
			val = ""
		case strings.HasPrefix(val, `"`) && json.Unmarshal(raw, &str) == nil:
			val = str
		}
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.ContainsRune(val, 0) {
			s.log.Warn("dropping init env variable with an invalid name or value", "name", k)
			continue
		}
		env = append(env, k+"="+val)
	}
	return env
}

// envMap turns KEY=value pairs into a map, for the launcher's init line.
func envMap(pairs []string) map[string]string {
	m := make(map[string]string, len(pairs))
	for _, kv := range pairs {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// transition moves the state from one value to another under mu; it reports
// whether the state was from.
func (s *Server) transition(from, to state) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if state(s.state.Load()) != from {
		return false
	}
	s.state.Store(int32(to))
	return true
}

var errTooLarge = errors.New("request body too large")

// readAll reads at most limit bytes of r.
func readAll(r io.Reader, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, errTooLarge
	}
	return buf.Bytes(), nil
}

func bodyError(err error) answer {
	if errors.Is(err, errTooLarge) {
		return answer{http.StatusRequestEntityTooLarge, err.Error()}
	}
	return answer{http.StatusBadRequest, "Error reading request body: " + err.Error()}
}

// sendError writes an OpenWhisk error body {"error": msg}.
func sendError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg}) // a struct of one string always marshals
	writeJSON(w, status, append(b, '\n'))
}

var jsonContentType = []string{"application/json"}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client may be gone; nothing to do about it
}
