package api

import (
	"net/http"
)

// info answers GET /api/v1 (and /) without authentication: build, limits
// and runtimes, as OpenWhisk does.
func (s *Server) info(w http.ResponseWriter, r *http.Request) {
	l := s.cfg.Limits
	writeJSON(w, http.StatusOK, map[string]any{
		"api_paths":   []string{"/api/v1"},
		"description": "Wisp, an OpenWhisk-compatible serverless platform",
		"build":       s.cfg.Build,
		"buildno":     s.cfg.BuildNo,
		"wisp":        s.cfg.Version,
		"runtimes":    s.cfg.Kinds.ByFamily(),
		"limits": map[string]any{
			"min_action_duration": l.Timeout.Min,
			"max_action_duration": l.Timeout.Max,
			"min_action_memory":   int64(l.Memory.Min) << 20,
			"max_action_memory":   int64(l.Memory.Max) << 20,
			"min_action_logs":     int64(l.Logs.Min) << 20,
			"max_action_logs":     int64(l.Logs.Max) << 20,
			"sequence_length":     l.SequenceLength,
		},
	})
}

func (s *Server) listNamespaces(w http.ResponseWriter, r *http.Request, id identity) error {
	writeJSON(w, http.StatusOK, []string{id.Namespace})
	return nil
}
