// Package console is Wisp's live web console, served by `wisp serve` at
// /console/: plain HTML, CSS and JavaScript embedded in the binary (no
// build step). The page holds no secrets of its own: the user types a key
// once, the browser keeps it in sessionStorage and sends it as Basic auth
// to the REST API, which authorizes every call as it does for the CLI. The
// live activation stream is the API's
// GET /api/v1/namespaces/_/activations/stream (server-sent events); the
// charts and the feed health read GET /api/v1/namespaces/_/metrics, the
// namespace's per-minute metrics of the last hour.
package console

import (
	"embed"
	"io"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// Handler serves the console's files under /console/ (and redirects
// /console to it). Every request it answers is a static file; the data
// comes from the API, with the key the user typed.
func Handler() http.Handler {
	files, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded folder is part of the binary
	}
	fileServer := http.StripPrefix("/console/", http.FileServerFS(files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusMethodNotAllowed)
			_, _ = io.WriteString(w, `{"error":"The console only serves GET and HEAD.","code":""}`+"\n")
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'")
		fileServer.ServeHTTP(w, r)
	})
}
