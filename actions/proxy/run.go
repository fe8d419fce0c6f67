package proxy

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
)

// handleRun answers POST /run: it forwards the request body, unchanged but
// for newlines, to the launcher as one line and answers with its reply once
// the activation's sentinels have reached Stdout and Stderr.
func (s *Server) handleRun(w http.ResponseWriter, r *http.Request) {
	if st := state(s.state.Load()); st != stateReady {
		a := s.notReady(st)
		sendError(w, a.status, a.msg)
		return
	}
	l := s.l // set before the state became ready, never changed after

	bp := s.bufs.Get().(*[]byte)
	defer putBuf(&s.bufs, bp)
	id := l.nextID.Add(1)
	frame := strconv.AppendUint((*bp)[:0], id, 10)
	frame = append(frame, ' ')
	start := len(frame)
	frame, err := appendBody(frame, r.Body, s.cfg.MaxBodyBytes)
	*bp = frame
	if err != nil {
		a := bodyError(err)
		sendError(w, a.status, a.msg)
		return
	}
	if msg, ok := checkRunBody(frame[start:]); !ok {
		sendError(w, http.StatusBadRequest, "Error unmarshaling request: "+msg)
		return
	}
	frame = append(frame, '\n')
	*bp = frame

	ctx := r.Context()
	s.runs.RLock()
	rep, err := l.call(ctx, id, frame)
	switch {
	case errors.Is(err, errLauncherGone):
		s.runs.RUnlock()
		s.transition(stateReady, stateDead)
		if l.counter.drained(ctx) == nil {
			s.writeSentinels()
		}
		sendError(w, http.StatusBadGateway, msgAbnormalRun)
		return
	case err != nil: // the client is gone
		s.runs.RUnlock()
		return
	}
	defer putBuf(&s.bufs, rep.buf)
	waitErr := l.counter.wait(ctx, rep.seq)
	s.runs.RUnlock()
	if waitErr != nil {
		return
	}
	if s.cfg.KillLeftovers && s.runs.TryLock() {
		recycle := s.killLeftovers(l.pid)
		s.runs.Unlock()
		if recycle {
			w.Header().Set(RecycleHeader, "1")
		}
	}
	s.writeReply(w, rep)
}

// writeReply answers with the launcher's reply.
func (s *Server) writeReply(w http.ResponseWriter, rep reply) {
	switch rep.kind {
	case kindResult:
		writeJSON(w, http.StatusOK, rep.payload())
	case kindNotObject:
		sendError(w, http.StatusBadGateway, s.d.notDict)
	case kindThrown:
		var detail string
		if json.Unmarshal(rep.payload(), &detail) != nil {
			detail = string(rep.payload())
		}
		sendError(w, http.StatusBadGateway, s.d.thrown(detail))
	case kindBadArgument:
		var typ string
		if json.Unmarshal(rep.payload(), &typ) != nil {
			typ = string(rep.payload())
		}
		a := s.d.badArgument(typ)
		sendError(w, a.status, a.msg)
	}
}

// notReady answers /run in any state but ready.
func (s *Server) notReady(st state) answer {
	switch st {
	case stateNew:
		return s.d.notInitialized
	case stateStarting:
		return s.d.starting
	case stateFailed:
		return s.d.initFailed
	case stateClosed:
		return answer{http.StatusServiceUnavailable, "proxy closed"}
	}
	return answer{http.StatusBadGateway, msgAbnormalRun}
}

// appendBody appends at most limit bytes of r to buf.
func appendBody(buf []byte, r io.Reader, limit int64) ([]byte, error) {
	start := len(buf)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)-start) > limit {
			return buf, errTooLarge
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// checkRunBody validates the body as a JSON object and turns its newlines,
// which JSON allows only as whitespace, into spaces so it fits on one line.
func checkRunBody(body []byte) (string, bool) {
	if !json.Valid(body) {
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return err.Error(), false
		}
		return "invalid JSON", false
	}
	for _, c := range body {
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			continue
		}
		if c != '{' {
			return "the request must be a JSON object", false
		}
		break
	}
	for i, c := range body {
		if c == '\n' || c == '\r' {
			body[i] = ' '
		}
	}
	return "", true
}
