package slack

import (
	"fmt"
	"testing"
)

// TestEventAttributes: the CloudEvents attributes of an Events API event,
// a slash command and an interaction.
func TestEventAttributes(t *testing.T) {
	for _, tc := range []struct{ name, payload, want string }{
		{"event", `{"type":"event_callback","team_id":"T1","event_id":"Ev1","event":{"type":"app_mention","channel":"C1"}}`, "Ev1 /whisk.system/slack/T1 com.slack.app_mention C1"},
		{"command", `{"command":"/deploy","team_id":"T1","channel_id":"C2","trigger_id":"tr1"}`, "tr1 /whisk.system/slack/T1 com.slack.command /deploy"},
		{"interaction", `{"type":"block_actions","channel_id":"C3"}`, "tr2 /whisk.system/slack com.slack.block_actions C3"},
		{"nothing known", `{}`, "tr2 /whisk.system/slack com.slack.event "},
	} {
		id := "tr2"
		if tc.name == "event" {
			id = "Ev1"
		} else if tc.name == "command" {
			id = "tr1"
		}
		a := eventAttributes(id, []byte(tc.payload))
		if got := fmt.Sprintf("%s %s %s %s", a.ID, a.Source, a.Type, a.Subject); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
