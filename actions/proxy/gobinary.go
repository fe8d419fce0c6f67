package proxy

import (
	"crypto/subtle"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
)

// BinaryPath is where a Go runtime container that compiled its action's
// sources at /init serves the executable it built (GET, with the
// container's secret), so that the invoker can hand it to the action's
// next containers instead of the sources; 404 when the container built
// nothing (other runtimes, binaries, a failed or missing /init).
const BinaryPath = "/binary"

// serveBinary answers GET BinaryPath.
func (s *Server) serveBinary(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		sendError(w, http.StatusMethodNotAllowed, "method not allowed: "+r.Method)
		return
	}
	if s.cfg.Secret != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get(SecretHeader)), []byte(s.cfg.Secret)) != 1 {
		sendError(w, http.StatusForbidden, "The request is not authorized: it lacks the container's secret.")
		return
	}
	if state(s.state.Load()) != stateReady || !s.compiled.Load() {
		sendError(w, http.StatusNotFound, "no compiled binary")
		return
	}
	f, err := os.Open(filepath.Join(s.codeDir(), nativeExec))
	if err != nil {
		sendError(w, http.StatusNotFound, "no compiled binary")
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		sendError(w, http.StatusNotFound, "no compiled binary")
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(st.Size(), 10))
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, f) // the invoker may be gone; nothing to do about it
}
