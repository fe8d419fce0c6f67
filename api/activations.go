package api

import (
	"net/http"
	"strconv"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
)

func (s *Server) listActivations(w http.ResponseWriter, r *http.Request, id identity) error {
	ns, err := id.namespace(r)
	if err != nil {
		return err
	}
	skip, limit, err := listPage(r)
	if err != nil {
		return err
	}
	docs, err := queryBool(r, "docs", false)
	if err != nil {
		return err
	}
	f := store.ActivationFilter{Skip: skip, Limit: limit}
	if name := r.URL.Query().Get("name"); name != "" {
		fqn, err := entity.ParseFQN("name", name, ns)
		if err != nil {
			return err
		}
		f.Name = fqn.Path()
	}
	for _, q := range []struct {
		name string
		dst  *int64
	}{{"since", &f.Since}, {"upto", &f.Upto}} {
		if v := r.URL.Query().Get(q.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return entity.Invalid(q.name, "query parameter must be epoch milliseconds, not %q", v)
			}
			*q.dst = n
		}
	}
	acts, err := s.store.ListActivations(r.Context(), ns, f)
	if err != nil {
		return err
	}
	out := make([]entity.Activation, 0, len(acts))
	for _, a := range acts {
		if docs {
			out = append(out, *a)
		} else {
			out = append(out, a.Summary())
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) activation(r *http.Request, id identity) (*entity.Activation, error) {
	ns, err := id.namespace(r)
	if err != nil {
		return nil, err
	}
	aid := r.PathValue("id")
	if !entity.ValidActivationID(aid) {
		return nil, entity.Invalid("activationId", "%q is not an activation id (32 hexadecimal digits)", aid)
	}
	return s.store.GetActivation(r.Context(), ns, aid)
}

func (s *Server) getActivation(w http.ResponseWriter, r *http.Request, id identity) error {
	a, err := s.activation(r, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) getActivationLogs(w http.ResponseWriter, r *http.Request, id identity) error {
	a, err := s.activation(r, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string][]string{"logs": a.Logs})
	return nil
}

func (s *Server) getActivationResult(w http.ResponseWriter, r *http.Request, id identity) error {
	a, err := s.activation(r, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.Response)
	return nil
}
