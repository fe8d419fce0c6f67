package slack

import (
	"encoding/json"

	"github.com/wispio/wisp/entity"
)

// eventAttributes are the CloudEvents attributes of what Slack sent
// (issue 17): type com.slack.KIND, KIND being the Events API event's type
// ("message", "app_mention"), "command" for a slash command or the
// interaction's type ("block_actions"); the channel or the command as
// subject; the team as part of the source; Slack's id (event_id,
// trigger_id) as id, so that Slack's retries fire once.
func eventAttributes(id string, payload []byte) *entity.EventAttributes {
	var head struct {
		Type    string `json:"type"`
		TeamID  string `json:"team_id"`
		Command string `json:"command"`
		Channel string `json:"channel_id"`
		Event   struct {
			Type    string `json:"type"`
			Channel string `json:"channel"`
		} `json:"event"`
	}
	_ = json.Unmarshal(payload, &head)
	kind, subject := head.Type, head.Channel
	switch {
	case head.Event.Type != "":
		kind, subject = head.Event.Type, head.Event.Channel
	case head.Command != "":
		kind, subject = "command", head.Command
	}
	a := &entity.EventAttributes{ID: id, Source: "/whisk.system/slack", Type: "com.slack." + kind, Subject: subject}
	if kind == "" {
		a.Type = "com.slack.event"
	}
	if head.TeamID != "" {
		a.Source += "/" + head.TeamID
	}
	return a
}
