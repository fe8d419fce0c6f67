package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/cloudevents/sdk-go/v2/types"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/routing"
)

// CloudEvents in (issue 17). A trigger fire whose request is a CloudEvent
// (binary mode: ce-* headers; structured: application/cloudevents+json;
// batched: application/cloudevents-batch+json) fires the trigger once per
// event: its attributes become the fire's event (event.* in filters), its
// data the payload (see eventPayload), and its source and id its
// activation id (routing.EventActivationID), so a redelivered event fires
// once. Any other request is a plain fire.

// maxBatch bounds the events of one batched request.
const maxBatch = 100

// isCloudEvent reports whether a fire's request is a CloudEvent.
func isCloudEvent(h http.Header) bool {
	if h.Get("Ce-Specversion") != "" {
		return true
	}
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	return strings.HasPrefix(mt, "application/cloudevents")
}

// fireCloudEvents fires trigger once per CloudEvent of the request. One
// event answers as a plain fire does (202 {"activationId"}, or 204 when no
// rule is active); a batch answers 202 {"activationIds": [...]} in the
// events' order. A batch that fails part way may be sent again whole:
// the events already fired fire once.
func (s *Server) fireCloudEvents(w http.ResponseWriter, r *http.Request, id identity, trigger entity.FQN) error {
	events, batch, err := s.readCloudEvents(w, r)
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(events))
	for i := range events {
		req, err := s.cloudEventFire(&events[i], id, trigger, r)
		if err != nil {
			return err
		}
		res, err := s.firer.Fire(r.Context(), req)
		if err != nil {
			return err
		}
		if res != nil {
			ids = append(ids, res.Activation.ActivationID)
		}
	}
	switch {
	case len(ids) == 0:
		w.WriteHeader(http.StatusNoContent)
	case batch:
		writeJSON(w, http.StatusAccepted, map[string][]string{"activationIds": ids})
	default:
		w.Header().Set("X-OpenWhisk-Activation-Id", ids[0])
		writeJSON(w, http.StatusAccepted, map[string]string{"activationId": ids[0]})
	}
	return nil
}

// readCloudEvents reads the request's events through the CloudEvents SDK,
// the body bounded first (the SDK reads it whole).
func (s *Server) readCloudEvents(w http.ResponseWriter, r *http.Request) ([]event.Event, bool, error) {
	limit := int64(s.cfg.Limits.ParamsSize) + 1<<20
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	batch := mt == event.ApplicationCloudEventsBatchJSON // with or without "; charset=utf-8"
	if batch {
		limit *= 4
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return nil, false, err
	}
	if err := entity.CheckJSONDepth("body", body); err != nil && (batch || r.Header.Get("Ce-Specversion") == "") {
		return nil, false, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	var events []event.Event
	if batch {
		events, err = cehttp.NewEventsFromHTTPRequest(r)
		if err == nil && len(events) == 0 {
			return nil, false, entity.Invalid("body", "the batch holds no CloudEvent")
		}
		if len(events) > maxBatch {
			return nil, false, entity.Invalid("body", "the batch holds %d CloudEvents, more than the limit of %d", len(events), maxBatch)
		}
	} else {
		var e *event.Event
		if e, err = cehttp.NewEventFromHTTPRequest(r); err == nil {
			events = []event.Event{*e}
		}
	}
	if err != nil {
		return nil, false, entity.Invalid("body", "not a CloudEvent: %v", err)
	}
	for i := range events {
		if err := events[i].Validate(); err != nil {
			return nil, false, entity.Invalid("body", "not a valid CloudEvent: %v", strings.ReplaceAll(err.Error(), "\n", " "))
		}
	}
	return events, batch, nil
}

// cloudEventFire turns one event into a fire of trigger.
func (s *Server) cloudEventFire(e *event.Event, id identity, trigger entity.FQN, r *http.Request) (routing.FireRequest, error) {
	payload, err := eventPayload(e, s.cfg.Limits.ParamsSize)
	if err != nil {
		return routing.FireRequest{}, err
	}
	attrs := eventAttributes(e)
	return routing.FireRequest{
		Trigger: trigger, Subject: id.Namespace, KeyExpires: id.keyExpires(), Payload: payload, TransactionID: transactionID(r),
		Event: attrs, ActivationID: routing.EventActivationID(trigger, "", attrs),
	}, nil
}

// eventAttributes are an event's context attributes and extensions.
func eventAttributes(e *event.Event) *entity.EventAttributes {
	a := &entity.EventAttributes{
		ID: e.ID(), Source: e.Source(), Type: e.Type(), Subject: e.Subject(),
		SpecVersion: e.SpecVersion(), DataContentType: e.DataContentType(),
	}
	if t := e.Time(); !t.IsZero() {
		a.Time = types.FormatTime(t)
	}
	if ext := e.Extensions(); len(ext) > 0 {
		a.Extensions = make(map[string]string, len(ext))
		for k, v := range ext {
			if s, err := types.Format(v); err == nil {
				a.Extensions[k] = s
			}
		}
	}
	return a
}

// eventPayload is what a fire of the event passes its rules' actions:
// data that is a JSON object is the parameters; other JSON data (an
// array, a string, a number) is the parameter "data"; data that is not
// JSON is "data" as a string when it is UTF-8 text, else "data_base64";
// no data is no parameters.
func eventPayload(e *event.Event, limit int) (entity.Params, error) {
	data := e.Data()
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	if len(data) > limit {
		return nil, entity.TooLarge("data", len(data), limit)
	}
	if isJSONContent(e.DataContentType()) && json.Valid(data) {
		trimmed := bytes.TrimSpace(data)
		if trimmed[0] == '{' {
			return entity.ParamsFromObject("data", trimmed)
		}
		if err := entity.CheckJSONDepth("data", trimmed); err != nil {
			return nil, err
		}
		return entity.Params{{Key: "data", Value: json.RawMessage(trimmed)}}, nil
	}
	if utf8.Valid(data) {
		v, _ := json.Marshal(string(data))
		return entity.Params{{Key: "data", Value: v}}, nil
	}
	v, _ := json.Marshal(base64.StdEncoding.EncodeToString(data))
	return entity.Params{{Key: "data_base64", Value: v}}, nil
}

// isJSONContent reports whether data of media type ct is JSON: no type
// (CloudEvents' default), application/json, text/json or any +json type.
func isJSONContent(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json")
}
