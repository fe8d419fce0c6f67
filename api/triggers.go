package api

import (
	"encoding/json"
	"net/http"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/routing"
	"github.com/wispio/wisp/store"
)

// UseTriggers makes the API write triggers and rules through t and fire
// through f. New sets up both over an empty rule index; a server loads the
// index from its store and passes it here before serving.
func (s *Server) UseTriggers(t *routing.Triggers, f *routing.Firer) {
	s.triggers, s.firer = t, f
}

// entityFQN resolves a trigger or rule named by the request path: a plain
// name (triggers and rules are never in a package).
func entityFQN(r *http.Request, ns string) (entity.FQN, error) {
	name := r.PathValue("name")
	if err := entity.ValidateName("name", name); err != nil {
		return entity.FQN{}, err
	}
	return entity.FQN{Namespace: ns, Name: name}, nil
}

func (s *Server) putTrigger(w http.ResponseWriter, r *http.Request, id identity) error {
	_, fqn, err := s.pathEntity(r, id)
	if err != nil {
		return err
	}
	overwrite, err := queryBool(r, "overwrite", false)
	if err != nil {
		return err
	}
	var req entity.TriggerPut
	if err := decodeBody(w, r, 3*int64(s.cfg.Limits.ParamsSize)+1<<20, &req); err != nil {
		return err
	}
	t, err := s.triggers.PutTrigger(r.Context(), fqn, &req, overwrite)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (s *Server) getTrigger(w http.ResponseWriter, r *http.Request, id identity) error {
	ns, fqn, err := s.pathEntity(r, id)
	if err != nil {
		return err
	}
	t, _, err := store.GetDoc[entity.Trigger](r.Context(), s.store, ns, store.Triggers, fqn.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (s *Server) deleteTrigger(w http.ResponseWriter, r *http.Request, id identity) error {
	_, fqn, err := s.pathEntity(r, id)
	if err != nil {
		return err
	}
	t, err := s.triggers.DeleteTrigger(r.Context(), fqn)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// entitySummary is a trigger or rule as a list without docs returns it.
type entitySummary struct {
	Namespace   string        `json:"namespace"`
	Name        string        `json:"name"`
	Version     string        `json:"version"`
	Publish     bool          `json:"publish"`
	Annotations entity.Params `json:"annotations"`
	Updated     int64         `json:"updated"`
}

func (s *Server) listTriggers(w http.ResponseWriter, r *http.Request, id identity) error {
	return s.listEntities(w, r, id, store.Triggers, func(doc json.RawMessage) (any, error) {
		var t entitySummary
		err := json.Unmarshal(doc, &t)
		return t, err
	})
}

// listEntities answers a list call of collection c (limit, skip, count),
// shaping each record with summarize.
func (s *Server) listEntities(w http.ResponseWriter, r *http.Request, id identity, c store.Collection, summarize func(json.RawMessage) (any, error)) error {
	ns, err := id.namespace(r)
	if err != nil {
		return err
	}
	skip, limit, err := listPage(r)
	if err != nil {
		return err
	}
	count, err := queryBool(r, "count", false)
	if err != nil {
		return err
	}
	if count {
		n, err := s.store.Count(r.Context(), ns, c, "")
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]int{string(c): n})
		return nil
	}
	recs, err := s.store.List(r.Context(), ns, c, store.ListOptions{Skip: skip, Limit: limit})
	if err != nil {
		return err
	}
	out := make([]any, 0, len(recs))
	for _, rec := range recs {
		v, err := summarize(rec.Doc)
		if err != nil {
			return err
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// fireTrigger fires a trigger with the body as payload: 202 with the
// trigger activation id when a rule is active, 204 when none is. A
// CloudEvent (see cloudevents.go) fires with its data and attributes.
func (s *Server) fireTrigger(w http.ResponseWriter, r *http.Request, id identity) error {
	_, fqn, err := s.pathEntity(r, id)
	if err != nil {
		return err
	}
	if isCloudEvent(r.Header) {
		return s.fireCloudEvents(w, r, id, fqn) // cloudevents.go
	}
	var body json.RawMessage
	if err := decodeBody(w, r, int64(s.cfg.Limits.ParamsSize)+1, &body); err != nil {
		return err
	}
	payload, err := entity.ParamsFromObject("body", body)
	if err != nil {
		return err
	}
	res, err := s.firer.Fire(r.Context(), routing.FireRequest{
		Trigger: fqn, Subject: id.Namespace, KeyExpires: id.keyExpires(), Payload: payload, TransactionID: transactionID(r),
	})
	if err != nil {
		return err
	}
	if res == nil {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	w.Header().Set("X-OpenWhisk-Activation-Id", res.Activation.ActivationID)
	writeJSON(w, http.StatusAccepted, map[string]string{"activationId": res.Activation.ActivationID})
	return nil
}

// pathEntity resolves the caller's namespace and the trigger or rule named
// by the path.
func (s *Server) pathEntity(r *http.Request, id identity) (string, entity.FQN, error) {
	ns, err := id.namespace(r)
	if err != nil {
		return "", entity.FQN{}, err
	}
	fqn, err := entityFQN(r, ns)
	return ns, fqn, err
}
