package github

import (
	"fmt"
	"testing"
)

// TestEventAttributes: a delivery's CloudEvents attributes, from its
// headers and payload.
func TestEventAttributes(t *testing.T) {
	for _, tc := range []struct {
		event, payload, want string
	}{
		{"pull_request", `{"action":"opened","repository":{"html_url":"https://github.com/o/r"}}`, "d1 https://github.com/o/r com.github.pull_request opened map[action:opened]"},
		{"push", `{"ref":"refs/heads/main","repository":{"html_url":"https://github.com/o/r"}}`, "d1 https://github.com/o/r com.github.push  map[]"},
		{"ping", `{}`, "d1 /whisk.system/github com.github.ping  map[]"},
	} {
		a := eventAttributes(tc.event, "d1", []byte(tc.payload))
		if got := fmt.Sprintf("%s %s %s %s %v", a.ID, a.Source, a.Type, a.Subject, a.Extensions); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.event, got, tc.want)
		}
	}
}
