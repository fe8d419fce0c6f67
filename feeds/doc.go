// Package feeds is the feed manager: it connects triggers to the outside
// world through providers (package connectors/<name>), following
// OpenWhisk's feed contract.
//
// A feed is a catalogue action, /whisk.system/<provider>/<feed>, of the
// builtin kind: the Manager is its handler. A client wires a trigger to a
// feed as `wsk trigger create T --feed F -p ...` does: it creates the
// trigger (annotation feed: F), then invokes F with lifecycleEvent CREATE,
// triggerName (/ns/T) and authKey, plus the user's parameters. The
// Manager validates the parameters with the provider, persists the
// Registration and starts the provider's Feed; READ answers the
// registration's state and last error (secrets redacted); UPDATE, PAUSE,
// UNPAUSE and DELETE do what they say. After a restart every persisted
// registration starts again from its cursor.
//
// Delivery: a provider hands each event to its Sink, which persists it
// (with the source cursor after it, in one record of the outbox) before
// returning, so the provider may acknowledge the source only once the
// event is safe. A worker per trigger fires the trigger, in order, while
// that write commits, retrying with backoff while firing fails, and
// deletes the event once both its fire and its write are durable: at
// least once end to end. The Manager does not know the
// providers: the server hands it a list.
package feeds
