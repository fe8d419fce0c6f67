package slack

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/wispio/wisp/connectors/hookfeed"
	"github.com/wispio/wisp/feeds"
)

// hook is a running feed's endpoint.
type hook struct {
	id, trigger string
	secret      string
	// deliveries fires at most once per id (event_id, trigger_id).
	deliveries *hookfeed.Deliveries
}

// HTTPHandler serves POST /hooks/slack/{id}.
func (p *Provider) HTTPHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+feeds.HookPath(p.Name())+"{id}", p.serveHook)
	return mux
}

// serveHook takes one request from Slack. Answers: 200 fired, a retry
// fired before, a url_verification challenge, or an app_rate_limited
// notice; 202 an outer event type it does not know (not fired); 400
// malformed; 401 a bad or missing signature or a timestamp more than five
// minutes away; 404 no running feed; 413 too big; 415 neither JSON nor
// form; 503 not stored (Slack retries).
func (p *Provider) serveHook(w http.ResponseWriter, r *http.Request) {
	h := p.lookup(r.PathValue("id"))
	if h == nil {
		answer(w, http.StatusNotFound, map[string]any{"error": "no running slack feed at this URL"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, p.cfg.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			answer(w, http.StatusRequestEntityTooLarge, map[string]any{"error": "the body is larger than the limit"})
			return
		}
		answer(w, http.StatusBadRequest, map[string]any{"error": "the body could not be read"})
		return
	}
	if !verified(r.Header, h.secret, body) {
		answer(w, http.StatusUnauthorized, map[string]any{"error": "X-Slack-Signature: missing or wrong, or X-Slack-Request-Timestamp too old"})
		return
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/json":
		p.serveEvent(w, r, h, body)
	case "application/x-www-form-urlencoded":
		p.serveForm(w, r, h, body)
	default:
		answer(w, http.StatusUnsupportedMediaType, map[string]any{"error": "Content-Type must be application/json or application/x-www-form-urlencoded"})
	}
}

// verified checks Slack's v0 signature and its five-minute window.
func verified(header http.Header, secret string, body []byte) bool {
	sv, err := slack.NewSecretsVerifier(header, secret)
	if err != nil {
		return false
	}
	_, _ = sv.Write(body)
	return sv.Ensure() == nil
}

// outer is the envelope of an Events API request.
type outer struct {
	Type      string          `json:"type"`
	Challenge string          `json:"challenge"`
	EventID   string          `json:"event_id"`
	Event     json.RawMessage `json:"event"`
}

func (p *Provider) serveEvent(w http.ResponseWriter, r *http.Request, h *hook, body []byte) {
	var ev outer
	if err := json.Unmarshal(body, &ev); err != nil {
		answer(w, http.StatusBadRequest, map[string]any{"error": "the body is not an Events API request"})
		return
	}
	switch ev.Type {
	case slackevents.URLVerification:
		if ev.Challenge == "" {
			answer(w, http.StatusBadRequest, map[string]any{"error": "url_verification without challenge"})
			return
		}
		answer(w, http.StatusOK, map[string]any{"challenge": ev.Challenge})
	case slackevents.AppRateLimited:
		p.log.Warn("slack rate-limits the app's events", "trigger", h.trigger)
		answer(w, http.StatusOK, map[string]any{"ok": true})
	case slackevents.CallbackEvent:
		if !validEventCallback(body, ev) {
			answer(w, http.StatusBadRequest, map[string]any{"error": "the body is not a valid event_callback"})
			return
		}
		h.deliver(w, r, p, ev.EventID, body)
	default:
		answer(w, http.StatusAccepted, map[string]any{"ignored": "unknown request type"})
	}
}

// validEventCallback checks an event_callback (an Events API request
// body, or a Socket Mode events_api payload): an event_id and a valid
// inner event.
func validEventCallback(body []byte, ev outer) bool {
	return ev.EventID != "" && validCallback(body, ev.Event)
}

// validCallback checks an event_callback with slack-go; an inner event
// type slack-go does not know yet only needs to be an object with a type.
func validCallback(body []byte, inner json.RawMessage) bool {
	var head struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(inner, &head) != nil || head.Type == "" {
		return false
	}
	if _, known := slackevents.EventsAPIInnerEventMapping[slackevents.EventsAPIType(head.Type)]; !known {
		return true
	}
	_, err := slackevents.ParseEvent(body, slackevents.OptionNoVerifyToken())
	return err == nil
}

// serveForm takes a slash command (command=...) or an interactive
// payload (payload=...).
func (p *Provider) serveForm(w http.ResponseWriter, r *http.Request, h *hook, body []byte) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		answer(w, http.StatusBadRequest, map[string]any{"error": "the form is malformed"})
		return
	}
	if raw := form.Get("payload"); raw != "" {
		id, ok := interactionID([]byte(raw))
		if !ok {
			answer(w, http.StatusBadRequest, map[string]any{"error": "payload: not a JSON object"})
			return
		}
		h.deliver(w, r, p, id, []byte(raw))
		return
	}
	if form.Get("command") == "" {
		answer(w, http.StatusBadRequest, map[string]any{"error": "the form is neither a slash command nor an interactive payload"})
		return
	}
	fields := map[string]string{}
	for k := range form {
		fields[k] = form.Get(k)
	}
	h.deliver(w, r, p, form.Get("trigger_id"), commandPayload(fields))
}

// interactionID checks an interactive payload (the payload form field,
// or a Socket Mode interactive payload) and answers its trigger_id ("" if
// it has none); ok is false when it is not a JSON object.
func interactionID(raw []byte) (id string, ok bool) {
	var obj map[string]json.RawMessage
	var head struct {
		TriggerID string `json:"trigger_id"`
	}
	if json.Unmarshal(raw, &obj) != nil || obj == nil || json.Unmarshal(raw, &head) != nil {
		return "", false
	}
	return head.TriggerID, true
}

// commandPayload is what a slash command fires: its fields as one JSON
// object of strings, as the form Slack posts carries them.
func commandPayload(fields map[string]string) []byte {
	payload, _ := json.Marshal(fields)
	return payload
}

// deliver fires payload (without Slack's verification token) unless id
// was fired before; the recent ids travel in the cursor.
func (h *hook) deliver(w http.ResponseWriter, r *http.Request, p *Provider, id string, payload []byte) {
	duplicate, err := h.deliveries.Deliver(r.Context(), id, withoutToken(payload), eventAttributes(id, payload))
	switch {
	case err != nil:
		p.log.Error("slack event not stored", "trigger", h.trigger, "id", id, "err", err)
		answer(w, http.StatusServiceUnavailable, map[string]any{"error": "the event could not be stored"})
	case duplicate:
		answer(w, http.StatusOK, map[string]any{"duplicate": id})
	default:
		w.WriteHeader(http.StatusOK) // an empty 200: Slack shows nothing for a slash command
	}
}

// withoutToken drops Slack's deprecated verification token, a credential,
// from a payload that is a JSON object.
func withoutToken(payload []byte) []byte {
	var obj map[string]json.RawMessage
	if json.Unmarshal(payload, &obj) != nil {
		return payload
	}
	if _, has := obj["token"]; !has {
		return payload
	}
	delete(obj, "token")
	out, err := json.Marshal(obj)
	if err != nil {
		return payload
	}
	return out
}

func answer(w http.ResponseWriter, status int, body map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
