package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/metrics"
)

// UseMetrics serves GET /api/v1/namespaces/{ns}/metrics from m's recent
// view; without it that path answers an empty view.
func (s *Server) UseMetrics(m *metrics.Metrics) { s.metrics = m }

// namespaceMetrics answers the caller's namespace's activity, minute by
// minute, since ?since= (epoch ms; default and at most the last hour), as
// this process observed it (metrics.NamespaceView). A namespace sees only
// its own.
func (s *Server) namespaceMetrics(w http.ResponseWriter, r *http.Request, id identity) error {
	ns, err := id.namespace(r)
	if err != nil {
		return err
	}
	since := time.Now().Add(-time.Hour)
	if v := r.URL.Query().Get("since"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return entity.Invalid("since", "query parameter must be epoch milliseconds, not %q", v)
		}
		since = time.UnixMilli(n)
	}
	writeJSON(w, http.StatusOK, s.metrics.NamespaceView(ns, since))
	return nil
}
