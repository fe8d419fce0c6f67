// Package slack is the Slack provider (/whisk.system/slack). Feed events:
// Slack's Events API, slash commands and interactive components post to
// Wisp's public URL + /hooks/slack/<id> (the id is unguessable, made at
// CREATE and kept in the registration's State; READ and CREATE answer the
// URL as "endpoint" to paste into the Slack app). Each request's v0
// signature is checked with the feed's signingSecret (slack-go's
// SecretsVerifier: HMAC-SHA256, five-minute window on the timestamp);
// url_verification is answered; event_callbacks, slash commands and
// interactive payloads fire the trigger once per event_id/trigger_id.
// With an app-level token (appToken, xapp-...) the feed uses Socket Mode
// instead (socket.go): slack-go's socketmode client connects through
// apps.connections.open, and each envelope is delivered, then acknowledged,
// firing what the HTTP path fires for the same request. Action post sends
// a message through an incoming webhook or chat.postMessage.
package slack
