package api

import (
	"net/http"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/routing"
)

// replayBody is the body of POST /namespaces/NS/triggers/T/replay.
type replayBody struct {
	Since    string `json:"since"`
	Until    string `json:"until,omitempty"`
	Rule     string `json:"rule,omitempty"`
	Limit    int    `json:"limit,omitempty"`
	Continue string `json:"continue,omitempty"`
}

// replayTrigger fires a trigger's archived events again (README: "Archive
// and replay"): 200 with the events counted and each new activation, at
// most limit events a call, and "next" to continue with when there are
// more.
func (s *Server) replayTrigger(w http.ResponseWriter, r *http.Request, id identity) error {
	_, fqn, err := s.pathEntity(r, id)
	if err != nil {
		return err
	}
	var body replayBody
	if err := decodeBody(w, r, 64<<10, &body); err != nil {
		return err
	}
	req := routing.ReplayRequest{Trigger: fqn, Subject: id.Namespace, KeyExpires: id.keyExpires(), TransactionID: transactionID(r)}
	switch {
	case body.Continue != "" && !routing.ValidReplayContinue(body.Continue):
		return entity.Invalid("continue", "must be the \"next\" of a replay's answer")
	case body.Limit < 0 || body.Limit > routing.MaxReplayLimit:
		return entity.Invalid("limit", "must be from 1 to %d events", routing.MaxReplayLimit)
	case body.Since == "" && body.Continue == "":
		return entity.Invalid("since", "is missing: the earliest fire to replay, such as 2026-12-01T00:00Z")
	}
	req.Limit, req.Continue = body.Limit, body.Continue
	if body.Since != "" {
		if req.Since, err = entity.ParseReplayTime("since", body.Since); err != nil {
			return err
		}
	}
	if req.Until, err = entity.ParseReplayTime("until", body.Until); err != nil {
		return err
	}
	if !req.Until.IsZero() && req.Until.Before(req.Since) {
		return entity.Invalid("until", "is before since")
	}
	if body.Rule != "" {
		rule, err := entity.ParseFQN("rule", body.Rule, fqn.Namespace)
		if err != nil {
			return err
		}
		req.Rule = &rule
	}
	res, err := s.firer.Replay(r.Context(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
