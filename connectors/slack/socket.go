package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/wispio/wisp/connectors/hookfeed"
	"github.com/wispio/wisp/feeds"
)

// socketFeed is a running Socket Mode feed: a slack-go socketmode client
// (apps.connections.open with the app-level token, then the WebSocket it
// answers; it reconnects when Slack asks or the socket dies) and the
// goroutine that takes its envelopes. An envelope is acknowledged only
// once its event is delivered (persisted), so an envelope that could not
// be stored is redelivered by Slack.
type socketFeed struct {
	p          *Provider
	trigger    string
	client     *socketmode.Client
	deliveries *hookfeed.Deliveries
	sink       feeds.Sink

	cancel context.CancelFunc
	wg     sync.WaitGroup // run and consume
}

// startSocket connects the feed in Socket Mode until Stop.
func (p *Provider) startSocket(ctx context.Context, trigger string, prm feedParams, deliveries *hookfeed.Deliveries, sink feeds.Sink) *socketFeed {
	ctx, cancel := context.WithCancel(ctx)
	f := &socketFeed{
		p: p, trigger: trigger, deliveries: deliveries, sink: sink, cancel: cancel,
		client: socketmode.New(p.api(prm.token, slack.OptionAppLevelToken(prm.appToken)), socketmode.OptionDialer(p.websocketDialer())),
	}
	f.wg.Add(2)
	go func() { defer f.wg.Done(); f.run(ctx) }()
	go func() { defer f.wg.Done(); f.consume(ctx) }()
	return f
}

// websocketDialer opens Socket Mode's WebSocket (at the URL Slack's
// apps.connections.open answers) through the egress policy, with no proxy.
func (p *Provider) websocketDialer() *websocket.Dialer {
	return &websocket.Dialer{NetDialContext: p.cfg.Egress.Dialer().DialContext, HandshakeTimeout: 45 * time.Second}
}

// Stop closes the socket and waits for the feed's goroutines. Envelopes
// received and not yet delivered are not acknowledged: Slack sends them
// again.
func (f *socketFeed) Stop(ctx context.Context) error {
	f.cancel()
	done := make(chan struct{})
	go func() { f.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop the slack socket of %s: %w", f.trigger, ctx.Err())
	}
}

// run keeps the client connected. slack-go retries a lost connection by
// itself and returns only when Slack refuses the token (revoked, invalid);
// then run reports it and tries again after a backoff, up to 5 minutes.
func (f *socketFeed) run(ctx context.Context) {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval = time.Second, 5*time.Minute
	for {
		err := f.client.RunContext(ctx)
		if ctx.Err() != nil {
			return
		}
		f.sink.Report(fmt.Errorf("appToken: Slack refused the socket mode connection (apps.connections.open: %s)", slackError(err)))
		wait := time.NewTimer(b.NextBackOff())
		select {
		case <-ctx.Done():
			wait.Stop()
			return
		case <-wait.C:
		}
	}
}

// consume takes the client's events one at a time, so that envelopes are
// delivered, and acknowledged, in the order Slack sent them.
func (f *socketFeed) consume(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case evt := <-f.client.Events:
			f.handle(ctx, evt)
		}
	}
}

func (f *socketFeed) handle(ctx context.Context, evt socketmode.Event) {
	log := f.p.log.With("trigger", f.trigger)
	switch evt.Type {
	case socketmode.EventTypeConnected:
		log.Info("slack socket mode connected")
		f.sink.Report(nil)
	case socketmode.EventTypeConnectionError:
		if e, ok := evt.Data.(*slack.ConnectionErrorEvent); ok {
			err := fmt.Errorf("slack socket mode: connection attempt %d failed: %s", e.Attempt, slackError(e.ErrorObj))
			log.Warn("slack socket mode not connected", "err", err, "retryIn", e.Backoff)
			f.sink.Report(err)
		}
	case socketmode.EventTypeEventsAPI, socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive:
		if evt.Request != nil {
			f.envelope(ctx, *evt.Request)
		}
	case socketmode.EventTypeErrorBadMessage:
		// slack-go could not read the payload into its types (an inner
		// event it does not know, say); the Events API path checks it
		// with its own rules, as it does an HTTP request.
		bad, _ := evt.Data.(*socketmode.ErrorBadMessage)
		var req socketmode.Request
		if bad == nil || json.Unmarshal(bad.Message, &req) != nil || req.EnvelopeID == "" {
			log.Warn("slack socket mode: an unreadable message is dropped")
			return
		}
		f.envelope(ctx, req)
	case socketmode.EventTypeErrorWriteFailed:
		if e, ok := evt.Data.(*socketmode.ErrorWriteFailed); ok {
			log.Warn("slack socket mode: an acknowledgement was not sent; Slack sends the envelope again", "envelopeId", e.Response.EnvelopeID, "err", e.Cause)
		}
	case socketmode.EventTypeIncomingError:
		if e, ok := evt.Data.(*slack.IncomingEventError); ok {
			log.Warn("slack socket mode: read failed", "err", e.ErrorObj)
		}
	}
}

// envelope delivers an envelope's event, then acknowledges it: after the
// event is persisted, never before. An event that was not stored is not
// acknowledged, so that Slack sends it again; a malformed one, or one
// that is not fired, is acknowledged, since a retry would not change it.
func (f *socketFeed) envelope(ctx context.Context, req socketmode.Request) {
	log := f.p.log.With("trigger", f.trigger, "envelopeId", req.EnvelopeID, "type", req.Type)
	id, payload, err := envelopeEvent(req)
	switch {
	case err != nil:
		log.Warn("slack socket mode: envelope dropped", "err", err)
	case payload == nil:
		log.Debug("slack socket mode: envelope not fired")
	default:
		duplicate, err := f.deliveries.Deliver(ctx, id, withoutToken(payload), eventAttributes(id, payload))
		if err != nil {
			log.Error("slack event not stored; Slack sends it again", "id", id, "err", err)
			return
		}
		if duplicate {
			log.Debug("slack socket mode: a retry of an event fired before", "id", id, "retryAttempt", req.RetryAttempt)
		}
	}
	if err := f.client.AckCtx(ctx, req.EnvelopeID, nil); err != nil {
		log.Warn("slack socket mode: not acknowledged", "err", err)
	}
}

// envelopeEvent is the event a Socket Mode envelope fires, as the Events
// API path fires it for the same request: an events_api envelope's
// event_callback, a slash command's fields as strings, an interactive
// payload. id is the event_id or trigger_id that dedupes retries (the
// envelope_id when the payload has none). A nil payload is an envelope
// that fires nothing (an outer event type other than event_callback).
func envelopeEvent(req socketmode.Request) (id string, payload []byte, err error) {
	switch req.Type {
	case socketmode.RequestTypeEventsAPI:
		var ev outer
		if json.Unmarshal(req.Payload, &ev) != nil {
			return "", nil, errors.New("payload: not an Events API request")
		}
		if ev.Type != slackevents.CallbackEvent {
			return "", nil, nil
		}
		if !validEventCallback(req.Payload, ev) {
			return "", nil, errors.New("payload: not a valid event_callback")
		}
		id, payload = ev.EventID, req.Payload
	case socketmode.RequestTypeSlashCommands:
		fields, err := commandFields(req.Payload)
		if err != nil {
			return "", nil, err
		}
		id, payload = fields["trigger_id"], commandPayload(fields)
	case socketmode.RequestTypeInteractive:
		var ok bool
		if id, ok = interactionID(req.Payload); !ok {
			return "", nil, errors.New("payload: not a JSON object")
		}
		payload = req.Payload
	default:
		return "", nil, fmt.Errorf("type: %q is not an envelope type Wisp fires", req.Type)
	}
	if id == "" {
		id = req.EnvelopeID
	}
	return id, payload, nil
}

// commandFields reads a Socket Mode slash command, a JSON object, as the
// strings its form would carry (is_enterprise_install: false becomes
// "false").
func commandFields(raw json.RawMessage) (map[string]string, error) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil || obj == nil {
		return nil, errors.New("payload: the slash command is not a JSON object")
	}
	fields := make(map[string]string, len(obj))
	for k, v := range obj {
		var s string
		switch {
		case json.Unmarshal(v, &s) == nil:
			fields[k] = s
		case string(v) == "null":
			fields[k] = ""
		default:
			fields[k] = string(v)
		}
	}
	if fields["command"] == "" {
		return nil, errors.New("payload: the slash command has no command")
	}
	return fields, nil
}
