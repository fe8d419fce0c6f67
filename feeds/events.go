package feeds

import (
	"strconv"
	"time"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/routing"
)

// stampEvent returns the CloudEvents attributes ev fires with, and the
// fire's activation id (issue 17). What the connector left out is filled
// in: source "/whisk.system/PROVIDER", type "wisp.PROVIDER.FEED", spec
// version 1.0, the time the event was delivered, and as id the outbox
// event's own stable id. The activation id derives from source and id
// when the connector named the event (routing.EventActivationID: the
// same event delivered twice, even as two outbox events, fires once),
// else from the outbox event (ev.activationID: the same outbox event
// fired twice after a crash fires once).
func (e *entry) stampEvent(ev outboxEvent) (*entity.EventAttributes, string) {
	var a entity.EventAttributes
	if ev.Event != nil {
		a = *ev.Event
	}
	id := ev.activationID()
	named := a.ID != ""
	if a.Source == "" {
		a.Source = SystemNamespacePath + e.providerName
	}
	if a.Type == "" {
		a.Type = "wisp." + e.providerName + "." + e.feedName()
	}
	if a.SpecVersion == "" {
		a.SpecVersion = "1.0"
	}
	if a.Time == "" {
		a.Time = time.UnixMilli(ev.Created).UTC().Format(time.RFC3339Nano)
	}
	if !named {
		a.ID = id
		return &a, id
	}
	return &a, routing.EventActivationID(e.fqn, e.scope(), &a)
}

// scope is the registration's creation time: events named alike by
// another registration of the trigger fire on their own.
func (e *entry) scope() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strconv.FormatInt(e.doc.Created, 10)
}

// SystemNamespacePath is the prefix of a feed event's default source.
const SystemNamespacePath = "/" + SystemNamespace + "/"

// feedName is the registration's feed ("alarm", "changes").
func (e *entry) feedName() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.doc.Feed
}
