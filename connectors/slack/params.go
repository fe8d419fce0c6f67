package slack

import (
	"encoding/json"

	"github.com/wispio/wisp/feeds"
)

// eventsParams declares the events feed's parameters. The feed takes
// either signingSecret (the Events API posts to Wisp) or appToken (Socket
// Mode): neither is required alone.
func eventsParams() feeds.Params {
	return feeds.Params{
		{Name: "signingSecret", Type: feeds.TypeString, Secret: true, BindTime: true, Doc: "The Signing Secret of the Slack app (Basic Information page), for the Events API; required without appToken."},
		{Name: "appToken", Type: feeds.TypeString, Secret: true, BindTime: true, Doc: "An app-level token (xapp-..., with connections:write): the feed connects in Socket Mode and needs no public URL."},
		{Name: "token", Type: feeds.TypeString, Secret: true, BindTime: true, Doc: "A bot token (xoxb-...), checked with auth.test on CREATE."},
	}
}

// Params declares the parameters of a feed (feeds.Declarer).
func (p *Provider) Params(feed string) feeds.Params {
	if feed != FeedEvents {
		return nil
	}
	return eventsParams()
}

// checkDeclared runs the declared checks.
func checkDeclared(params map[string]json.RawMessage) error {
	return eventsParams().Validate(params)
}
