// Package github is the GitHub feed provider (/whisk.system/github), feed
// webhook: CREATE registers a repository webhook through the GitHub REST
// API (go-github; the API URL is configurable for GitHub Enterprise and
// tests) that posts to Wisp's public URL + /hooks/github/<id>, with an
// unguessable id and a random secret per feed, both kept in the
// registration's State (feeds.Registerer); DELETE removes the webhook.
//
// The endpoint checks X-Hub-Signature-256 against the feed's secret,
// parses the event with go-github, ignores (202) event types the feed did
// not ask for, fires nothing twice for one X-GitHub-Delivery id (the
// feed's recent ids travel in its cursor, so they survive restarts) and
// hands the event body, unchanged as OpenWhisk's github feed does, to the
// Sink. The Provider type implements feeds.Provider, feeds.Registerer and
// feeds.HTTPProvider.
package github
