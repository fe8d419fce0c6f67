package github

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	gh "github.com/google/go-github/v84/github"

	"github.com/wispio/wisp/connectors/hookfeed"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/feeds"
)

// hook is a running feed's endpoint.
type hook struct {
	id, trigger string
	secret      []byte
	events      map[string]bool // "*" means every event
	deliveries  *hookfeed.Deliveries
}

func (h *hook) wants(event string) bool { return h.events["*"] || h.events[event] }

// HTTPHandler serves POST /hooks/github/{id}.
func (p *Provider) HTTPHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+feeds.HookPath(p.Name())+"{id}", p.serveHook)
	return mux
}

// serveHook takes one delivery. Answers: 200 fired (or a redelivery,
// fired before), 202 an event type the feed did not ask for, 400 a
// malformed delivery, 401 a bad or missing signature, 404 no running
// feed, 413 too big, 415 neither JSON nor form, 503 not stored (GitHub
// may redeliver).
func (p *Provider) serveHook(w http.ResponseWriter, r *http.Request) {
	h := p.lookup(r.PathValue("id"))
	if h == nil {
		answer(w, http.StatusNotFound, "error", "no running github feed at this URL")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, p.cfg.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			answer(w, http.StatusRequestEntityTooLarge, "error", "the body is larger than the limit")
			return
		}
		answer(w, http.StatusBadRequest, "error", "the body could not be read")
		return
	}
	sig := r.Header.Get(gh.SHA256SignatureHeader)
	if !strings.HasPrefix(sig, "sha256=") || gh.ValidateSignature(sig, body, h.secret) != nil {
		answer(w, http.StatusUnauthorized, "error", "X-Hub-Signature-256: missing or wrong")
		return
	}
	event, delivery := gh.WebHookType(r), gh.DeliveryID(r)
	if event == "" || delivery == "" {
		answer(w, http.StatusBadRequest, "error", "X-GitHub-Event and X-GitHub-Delivery are required")
		return
	}
	payload, status, msg := eventBody(r.Header.Get("Content-Type"), body)
	if status != 0 {
		answer(w, status, "error", msg)
		return
	}
	if !h.wants(event) {
		answer(w, http.StatusAccepted, "ignored", "the feed does not subscribe to "+event+" events")
		return
	}
	if gh.EventForType(event) != nil {
		if _, err := gh.ParseWebHook(event, payload); err != nil {
			answer(w, http.StatusBadRequest, "error", "the body is not a valid "+event+" event")
			return
		}
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(payload, &obj) != nil || obj == nil {
		answer(w, http.StatusBadRequest, "error", "the event is not a JSON object")
		return
	}
	h.deliver(w, r, p, event, delivery, payload)
}

// deliver hands the event to the Sink unless its delivery id was fired
// before; the ids travel in the cursor, stored with the event.
func (h *hook) deliver(w http.ResponseWriter, r *http.Request, p *Provider, event, delivery string, payload []byte) {
	duplicate, err := h.deliveries.Deliver(r.Context(), delivery, payload, eventAttributes(event, delivery, payload))
	switch {
	case err != nil:
		p.log.Error("github delivery not stored", "trigger", h.trigger, "delivery", delivery, "err", err)
		answer(w, http.StatusServiceUnavailable, "error", "the event could not be stored; redeliver it")
	case duplicate:
		answer(w, http.StatusOK, "duplicate", delivery)
	default:
		p.log.Debug("github event delivered", "trigger", h.trigger, "event", event, "delivery", delivery)
		answer(w, http.StatusOK, "delivery", delivery)
	}
}

// eventAttributes are a delivery's CloudEvents attributes: type
// com.github.EVENT, the repository's URL as source, the delivery id as
// id (GitHub's redeliveries keep it: one fire), and the payload's action
// ("opened", "closed") as subject and as the extension "action".
func eventAttributes(event, delivery string, payload []byte) *entity.EventAttributes {
	var head struct {
		Action     string `json:"action"`
		Repository struct {
			HTMLURL string `json:"html_url"`
		} `json:"repository"`
	}
	_ = json.Unmarshal(payload, &head)
	a := &entity.EventAttributes{ID: delivery, Source: head.Repository.HTMLURL, Type: "com.github." + event, Subject: head.Action}
	if a.Source == "" {
		a.Source = "/whisk.system/github"
	}
	if head.Action != "" {
		a.Extensions = map[string]string{"action": head.Action}
	}
	return a
}

// eventBody extracts the event JSON from a delivery of content type json
// or form (payload=...); status is non-zero when it cannot.
func eventBody(contentType string, body []byte) (payload []byte, status int, msg string) {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "application/json":
		return body, 0, ""
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil || form.Get("payload") == "" {
			return nil, http.StatusBadRequest, "the form has no payload field"
		}
		return []byte(form.Get("payload")), 0, ""
	}
	return nil, http.StatusUnsupportedMediaType, "Content-Type must be application/json"
}

// answer writes {"ok": status < 300, key: value}.
func answer(w http.ResponseWriter, status int, key, value string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": status < 300, key: value})
}
