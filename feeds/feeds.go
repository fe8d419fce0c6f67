package feeds

import (
	"context"
	"encoding/json"
	"errors"
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
	// Created and Updated are Unix milliseconds.
	Created int64 `json:"created"`
	Updated int64 `json:"updated"`
}

// Event is one thing that happened at a feed's source.
type Event struct {
	// Payload is the trigger's fire payload, a JSON object.
	Payload json.RawMessage
	// Cursor is the source position just after this event ("" keeps the
	// previous one); it is persisted together with the event.
	Cursor string
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

// ErrInvalid marks an error in the user's parameters (a 400-class
// problem, shown as is).
var ErrInvalid = errors.New("invalid feed parameters")
