package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/routing"
	"github.com/wispio/wisp/store"
)

// actionFQN resolves the action named by the request path.
func actionFQN(r *http.Request, ns string) (entity.FQN, error) {
	return entity.ParseFQN("name", r.PathValue("name"), ns)
}

func (s *Server) putAction(w http.ResponseWriter, r *http.Request, id identity) error {
	ns, err := id.namespace(r)
	if err != nil {
		return err
	}
	fqn, err := actionFQN(r, ns)
	if err != nil {
		return err
	}
	overwrite, err := queryBool(r, "overwrite", false)
	if err != nil {
		return err
	}
	var req entity.ActionPut
	limit := int64(s.cfg.Limits.CodeSize) + int64(s.cfg.Limits.ParamsSize) + 1<<20
	if err := decodeBody(w, r, limit, &req); err != nil {
		return err
	}
	if fqn.Package != "" {
		if err := s.checkPackageWritable(r.Context(), ns, fqn.Package); err != nil {
			return err
		}
	}
	a, err := putEntity(r.Context(), s.store, ns, store.Actions, fqn.Path(), overwrite, func(existing *entity.Action) (*entity.Action, error) {
		a, err := entity.BuildAction(fqn, &req, existing, s.cfg.Limits, s.cfg.Kinds.Resolve, time.Now().UnixMilli())
		if err != nil {
			return nil, err
		}
		if a.Exec.Kind == entity.KindSequence && req.Exec != nil {
			if err := s.activator.Resolver().CheckSequence(r.Context(), id.Namespace, fqn, a.Exec.Components, s.cfg.Limits.SequenceLength); err != nil {
				return nil, err
			}
		}
		return a, nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

// getAction answers an action; one in a package (or reached through a
// binding, possibly of another namespace) comes with the package's
// parameters merged under its own.
func (s *Server) getAction(w http.ResponseWriter, r *http.Request, id identity) error {
	if pkg, ok := strings.CutSuffix(r.PathValue("name"), "/"); ok {
		return s.listPackageActions(w, r, id, pkg)
	}
	fqn, err := actionFQN(r, id.readNamespace(r))
	if err != nil {
		return err
	}
	withCode, err := queryBool(r, "code", true)
	if err != nil {
		return err
	}
	res, err := s.activator.Resolver().Action(r.Context(), id.Namespace, fqn)
	if err != nil {
		return err
	}
	a := *res.Action // the resolver's copy is shared
	a.Parameters = res.Params
	if !withCode {
		a.Exec.Code = ""
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) deleteAction(w http.ResponseWriter, r *http.Request, id identity) error {
	ns, err := id.namespace(r)
	if err != nil {
		return err
	}
	fqn, err := actionFQN(r, ns)
	if err != nil {
		return err
	}
	if fqn.Package != "" {
		if err := s.checkPackageWritable(r.Context(), ns, fqn.Package); err != nil {
			return err
		}
	}
	a, rev, err := store.GetDoc[entity.Action](r.Context(), s.store, ns, store.Actions, fqn.Path())
	if err != nil {
		return err
	}
	if err := s.store.Delete(r.Context(), ns, store.Actions, fqn.Path(), rev); err != nil {
		return err
	}
	a.Exec.Code = ""
	writeJSON(w, http.StatusOK, a)
	return nil
}

// actionSummary is an action as list calls return it: no code.
type actionSummary struct {
	Namespace   string              `json:"namespace"`
	Name        string              `json:"name"`
	Version     string              `json:"version"`
	Publish     bool                `json:"publish"`
	Exec        execSummary         `json:"exec"`
	Annotations entity.Params       `json:"annotations"`
	Limits      entity.ActionLimits `json:"limits"`
	Updated     int64               `json:"updated"`
}

type execSummary struct {
	Kind   string `json:"kind"`
	Binary bool   `json:"binary"`
}

// summarizeAction is the projection of an action document a list keeps
// (store.ListOptions.Project): its summary, without code or parameters.
// encoding/json skips the code while decoding into the summary, so a list
// of actions holds the code of none.
func summarizeAction(doc []byte) ([]byte, error) {
	var a actionSummary
	if err := json.Unmarshal(doc, &a); err != nil {
		return nil, err
	}
	return json.Marshal(a)
}

func (s *Server) listActions(w http.ResponseWriter, r *http.Request, id identity) error {
	ns, err := id.namespace(r)
	if err != nil {
		return err
	}
	return s.writeActionList(w, r, ns, "")
}

// listPackageActions lists the actions of a package, or of the package a
// binding refers to, in any namespace whose package the caller may read.
func (s *Server) listPackageActions(w http.ResponseWriter, r *http.Request, id identity, pkg string) error {
	f := entity.FQN{Namespace: id.readNamespace(r), Name: pkg}
	if err := entity.ValidateName("name", pkg); err != nil {
		return err
	}
	_, target, err := s.activator.Resolver().Package(r.Context(), id.Namespace, f)
	if err != nil {
		return err
	}
	return s.writeActionList(w, r, target.Namespace, target.Name+"/")
}

// writeActionList answers the actions of ns whose names start with prefix.
func (s *Server) writeActionList(w http.ResponseWriter, r *http.Request, ns, prefix string) error {
	skip, limit, err := listPage(r)
	if err != nil {
		return err
	}
	count, err := queryBool(r, "count", false)
	if err != nil {
		return err
	}
	if count {
		n, err := s.store.Count(r.Context(), ns, store.Actions, prefix)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]int{"actions": n})
		return nil
	}
	recs, err := s.store.List(r.Context(), ns, store.Actions, store.ListOptions{Prefix: prefix, Skip: skip, Limit: limit, Project: summarizeAction})
	if err != nil {
		return err
	}
	out := make([]actionSummary, 0, len(recs))
	for _, rec := range recs {
		var a actionSummary
		if err := json.Unmarshal(rec.Doc, &a); err != nil {
			return err
		}
		out = append(out, a)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) invokeAction(w http.ResponseWriter, r *http.Request, id identity) error {
	accepted := time.Now()
	fqn, err := actionFQN(r, id.readNamespace(r))
	if err != nil {
		return err
	}
	blocking, err := queryBool(r, "blocking", false)
	if err != nil {
		return err
	}
	resultOnly, err := queryBool(r, "result", false)
	if err != nil {
		return err
	}
	var body json.RawMessage
	if err := decodeBody(w, r, int64(s.cfg.Limits.ParamsSize)+1, &body); err != nil {
		return err
	}
	payload, err := entity.ParamsFromObject("body", body)
	if err != nil {
		return err
	}
	req := routing.Request{
		Action: fqn, Subject: id.Namespace, KeyExpires: id.keyExpires(), Payload: payload,
		TransactionID: transactionID(r), ActivationID: entity.NewActivationID(), Accepted: accepted,
	}
	if blocking {
		req.Wait = s.cfg.BlockingWait
	}
	w.Header().Set("X-OpenWhisk-Activation-Id", req.ActivationID)
	activationID, act, err := s.activator.Activate(r.Context(), req)
	switch {
	case errors.Is(err, routing.ErrStillRunning) || (err == nil && act == nil):
		writeJSON(w, http.StatusAccepted, map[string]string{"activationId": activationID})
		return nil
	case err != nil:
		return err
	}
	status := activationStatus(act)
	if resultOnly {
		writeRaw(w, status, resultOf(act))
		return nil
	}
	writeJSON(w, status, act)
	return nil
}

// activationStatus is the HTTP status of a blocking invoke's answer: 200 on
// success, 502 when the action failed, 500 on a platform error.
func activationStatus(a *entity.Activation) int {
	switch a.Response.StatusCode {
	case entity.StatusSuccess:
		return http.StatusOK
	case entity.StatusWhiskError:
		return http.StatusInternalServerError
	default:
		return http.StatusBadGateway
	}
}

func resultOf(a *entity.Activation) []byte {
	if len(a.Response.Result) == 0 {
		return []byte("{}")
	}
	return a.Response.Result
}
