package api

import (
	"context"
	"net/http"
	"path"
	"strings"
)

// msgUncleanPath answers a request path with a "." or ".." segment or an
// empty inner segment, which Go's ServeMux would otherwise redirect with an
// HTML body.
const msgUncleanPath = "The request path must not contain '.', '..' or empty segments."

// msgMethodNotAllowed is the message of a 405 answer.
const msgMethodNotAllowed = "HTTP method not allowed, supported methods: "

// CanonicalPaths answers 400 with OpenWhisk's error body to a request whose
// path is not canonical (a ".", ".." or empty segment, escaped or not), and
// passes every other request to next. Put it in front of any ServeMux that
// serves the API, so that the mux never redirects.
func CanonicalPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect && !canonicalPath(r) {
			tx := transactionID(r)
			if tx == "" {
				tx = newTransactionID()
				w.Header().Set("X-Request-ID", tx)
			}
			writeJSON(w, http.StatusBadRequest, errorBody{Error: msgUncleanPath, Code: tx})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// canonicalPath reports whether both the escaped and the decoded path of r
// are rooted and free of ".", ".." and empty inner segments.
func canonicalPath(r *http.Request) bool {
	for _, p := range []string{r.URL.EscapedPath(), r.URL.Path} {
		if p == "" || p[0] != '/' {
			return false
		}
		clean := path.Clean(p)
		if strings.HasSuffix(p, "/") && clean != "/" {
			clean += "/"
		}
		if clean != p {
			return false
		}
	}
	return true
}

// allowedMethods lists the methods the API serves on r's path; empty when
// no route matches it at all.
func (s *Server) allowedMethods(r *http.Request) []string {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete} {
		probe := r.Clone(context.WithoutCancel(r.Context()))
		probe.Method = m
		if s.routed(probe) {
			allowed = append(allowed, m)
		}
	}
	return allowed
}

// serveUnrouted answers a request no route takes: 405 with an Allow header
// when the path is served for other methods, else 404.
func (s *Server) serveUnrouted(w http.ResponseWriter, r *http.Request) {
	allowed := s.allowedMethods(r)
	if len(allowed) == 0 {
		s.writeError(w, r, newError(http.StatusNotFound, msgNotFound))
		return
	}
	if allowed[0] == http.MethodGet {
		allowed = append([]string{http.MethodGet, http.MethodHead}, allowed[1:]...)
	}
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	s.writeError(w, r, newError(http.StatusMethodNotAllowed, msgMethodNotAllowed+strings.Join(allowed, ", ")))
}
