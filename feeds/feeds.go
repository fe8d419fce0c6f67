package feeds

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/wispio/wisp/entity"
)

// Lifecycle events a feed action receives in its lifecycleEvent parameter.
const (
	Create  = "CREATE"
	Read    = "READ"
	Update  = "UPDATE"
	Pause   = "PAUSE"
	Unpause = "UNPAUSE"
	Delete  = "DELETE"
)

// Registration states.
const (
	StatusActive = "active" // delivering events
	StatusPaused = "paused" // PAUSE: registered, not delivering
	StatusFailed = "failed" // the source is lost; the provider keeps retrying
	// StatusFinished: the feed ended on its own (Sink.Done: a once alarm
	// fired, maxTriggers or stopDate reached); it is not started again.
	StatusFinished = "finished"
)

// Registration is one trigger's subscription to a feed, as persisted.
// Params hold the user's parameters, credentials included: they are
// stored, handed to the provider, and never logged nor returned by READ
// (see Redacted).
type Registration struct {
	// Trigger is the trigger's fully qualified name, /namespace/name.
	Trigger string `json:"trigger"`
	// Provider and Feed name the feed action: /whisk.system/Provider/Feed.
	Provider string `json:"provider"`
	Feed     string `json:"feed"`
	// Params are the user's parameters (lifecycleEvent, triggerName and
	// authKey removed).
	Params map[string]json.RawMessage `json:"params"`
	// Status is StatusActive, StatusPaused, StatusFailed or
	// StatusFinished; LastError
	// says why a feed failed or last failed.
	Status    string `json:"status"`
	LastError string `json:"lastError,omitempty"`
	// Cursor is the provider's position in its source (a CouchDB update
	// sequence, the time of the last alarm), saved with every event so that
	// a restart resumes after the last event delivered.
	Cursor string `json:"cursor,omitempty"`
	// State is what a Registerer set up at the source on CREATE (a
	// webhook's id and secret), as it returned it; it is persisted with the
	// registration and never shown by READ.
	State json.RawMessage `json:"state,omitempty"`
	// Created and Updated are Unix milliseconds.
	Created int64 `json:"created"`
	Updated int64 `json:"updated"`
}

// Event is one thing that happened at a feed's source.
type Event struct {
	// Payload is the trigger's fire payload, a JSON object.
	Payload json.RawMessage
	// Cursor is the source position just after this event ("" keeps the
	// previous one); it is persisted together with the event. An Event
	// with no Payload and a Cursor only records the position (a feed that
	// starts at "now" pins it, so that a restart before its first event
	// misses nothing).
	Cursor string

	// Attributes are the event's CloudEvents attributes as the source knows
	// them (issue 17): rule filters see them as event.*. A connector sets
	// Source, Type, Subject (an MQTT topic, a CouchDB doc id) and, when the
	// source names each event once and for all (a GitHub delivery id, a
	// Slack event id, a CouchDB doc id and rev), ID: every fire of an
	// event with an ID has the same activation id, so the event fires once
	// however often it is delivered. The manager fills in what is missing
	// (see stampEvent). Nil: only the manager's defaults.
	Attributes *entity.EventAttributes
}

// Sink is where a running feed delivers. It is safe for concurrent use.
type Sink interface {
	// Deliver persists ev and returns once it is durable; only then may the
	// provider acknowledge the source. Firing the trigger happens after,
	// asynchronously, with retries. An error means the event was not taken:
	// do not acknowledge it.
	Deliver(ctx context.Context, ev Event) error
	// Report records the feed's health: nil after a (re)connection, an
	// error when the source is lost (the provider keeps retrying). A
	// failed feed is readable through READ and the CLI.
	Report(err error)
	// Done tells the Manager that the feed has finished on its own (an
	// alarm's maxTriggers or stopDate reached, a once alarm fired);
	// deleteTrigger asks for the trigger's removal too (deleteAfterFire).
	Done(deleteTrigger bool)
}

// Provider is one external system: an alarm clock, an MQTT broker, a
// CouchDB database.
type Provider interface {
	// Name is the catalogue package it serves ("alarms", "mqtt").
	Name() string
	// Feeds lists its feed actions ("alarm", "once", "interval").
	Feeds() []string
	// Validate checks the parameters of a CREATE or UPDATE before anything
	// is stored. Its error is shown to the user: it names the parameter
	// and the reason, and repeats no secret. A source that cannot be
	// reached with these parameters (wrong URL, bad credentials) is an
	// error here, so that no half-registered feed remains.
	Validate(ctx context.Context, feed string, params map[string]json.RawMessage) error
	// Start runs reg's feed, delivering to sink, until the Feed is stopped.
	// It returns promptly (its work runs in goroutines of its own); a
	// source that drops later is reported through sink.Report and retried.
	Start(ctx context.Context, reg Registration, sink Sink) (Feed, error)
}

// Feed is a running registration.
type Feed interface {
	// Stop ends the feed and waits for its goroutines. Events already
	// delivered stay delivered.
	Stop(ctx context.Context) error
}

// Registerer is implemented by providers that set something up at the
// source when a feed is created (a GitHub repository webhook) and tear it
// down when it is deleted. Start, by contrast, runs at every (re)start.
type Registerer interface {
	// Register runs on CREATE and UPDATE, after Validate and before the
	// registration is stored and started. On UPDATE, reg.State is the
	// previous state (nil on CREATE), for the provider to change what it
	// set up rather than add another. The answer becomes reg.State. An
	// error is shown to the user (it names the parameter, repeats no
	// secret) and nothing is stored.
	Register(ctx context.Context, reg Registration) (state json.RawMessage, err error)
	// Unregister undoes Register: on DELETE, when a CREATE fails after
	// Register, and when a finished or failed registration is replaced.
	// Something already gone at the source is not an error. An error does
	// not keep the registration: DELETE removes it and answers with a
	// warning.
	Unregister(ctx context.Context, reg Registration) error
}

// HTTPProvider is implemented by providers that receive their events over
// HTTP (GitHub webhooks, Slack's Events API). The server mounts the
// handler at HookPath(Name()), outside the API's authentication: the
// handler authenticates every request itself (signatures).
type HTTPProvider interface {
	HTTPHandler() http.Handler
}

// Endpointer is implemented by providers whose feeds have a URL that the
// outside world posts to (a Slack app's request URL): CREATE, UPDATE and
// READ answer it as "endpoint".
type Endpointer interface {
	Endpoint(reg Registration) string
}

// HookPath is the path under which a provider's HTTP handler is mounted,
// "/hooks/<provider>/".
func HookPath(provider string) string { return "/hooks/" + provider + "/" }

// ErrInvalid marks an error in the user's parameters (a 400-class
// problem, shown as is).
var ErrInvalid = errors.New("invalid feed parameters")
