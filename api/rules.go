package api

import (
	"encoding/json"
	"io"
	"net/http"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
)

func (s *Server) putRule(w http.ResponseWriter, r *http.Request, id identity) error {
	_, fqn, err := s.pathEntity(r, id)
	if err != nil {
		return err
	}
	overwrite, err := queryBool(r, "overwrite", false)
	if err != nil {
		return err
	}
	var req entity.RulePut
	if err := decodeBody(w, r, int64(s.cfg.Limits.ParamsSize)+1<<20, &req); err != nil {
		return err
	}
	rule, err := s.triggers.PutRule(r.Context(), id.Namespace, fqn, &req, overwrite)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rule)
	return nil
}

func (s *Server) getRule(w http.ResponseWriter, r *http.Request, id identity) error {
	_, fqn, err := s.pathEntity(r, id)
	if err != nil {
		return err
	}
	rule, err := s.triggers.GetRule(r.Context(), fqn)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rule)
	return nil
}

func (s *Server) deleteRule(w http.ResponseWriter, r *http.Request, id identity) error {
	_, fqn, err := s.pathEntity(r, id)
	if err != nil {
		return err
	}
	rule, err := s.triggers.DeleteRule(r.Context(), fqn)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rule)
	return nil
}

// listRules lists rules with their status from the rule index, so that
// `wisp rule list` and `wsk rule list` can show it.
func (s *Server) listRules(w http.ResponseWriter, r *http.Request, id identity) error {
	return s.listEntities(w, r, id, store.Rules, func(doc json.RawMessage) (any, error) {
		var rule entity.Rule
		if err := json.Unmarshal(doc, &rule); err != nil {
			return nil, err
		}
		rule.Status = s.triggers.Index().RuleStatus(rule.Trigger.FQN(), entity.FQN{Namespace: rule.Namespace, Name: rule.Name})
		return rule, nil
	})
}

// setRuleStatus enables or disables a rule: body {"status": "active"} or
// {"status": "inactive"}. It answers 200 with the rule.
func (s *Server) setRuleStatus(w http.ResponseWriter, r *http.Request, id identity) error {
	_, fqn, err := s.pathEntity(r, id)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		return err
	}
	status, err := entity.ParseRuleStatus(body)
	if err != nil {
		return err
	}
	rule, err := s.triggers.SetRuleStatus(r.Context(), fqn, status)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rule)
	return nil
}
