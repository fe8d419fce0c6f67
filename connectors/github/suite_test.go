package github

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/wispio/wisp/feeds"
	"github.com/wispio/wisp/feeds/feedstest"
)

// refuse makes a feedstest.Sink refuse every delivery.
func refuse(feeds.Event) bool { return true }

// TestProviderConformance runs the feeds.Provider suite on a fake GitHub
// API (the suite registers the repository webhook): Emit posts a push
// delivery signed with the hook's secret; after a refusal, which must not
// answer 2xx, Redeliver posts it again as GitHub would.
func TestProviderConformance(t *testing.T) {
	const token = "ghp_conformance_secret"
	var first int // the status of the last Emit's delivery
	post := func(t *testing.T, p feeds.Provider, reg feeds.Registration) int {
		var st state
		if err := json.Unmarshal(reg.State, &st); err != nil {
			t.Fatalf("state %s: %v", reg.State, err)
		}
		push := readFixture(t, "push.json")
		d := delivery{path: feeds.HookPath(p.Name()) + st.ID, event: "push", id: "d-conformance",
			contentType: "application/json", sig: Sign(st.Secret, push), body: push}
		return d.send(p.(*Provider).HTTPHandler()).Code
	}
	feedstest.Run(t, feedstest.Provider{
		New: func(t *testing.T) feeds.Provider {
			p, _ := newProvider(t)
			return p
		},
		Feed: FeedWebhook,
		Params: func(t *testing.T) map[string]json.RawMessage {
			return rawParams(t, map[string]any{"username": "octo", "repository": "hello", "accessToken": token, "events": "push"})
		},
		Secrets: []string{token},
		Emit:    func(t *testing.T, p feeds.Provider, reg feeds.Registration) { first = post(t, p, reg) },
		Redeliver: func(t *testing.T, p feeds.Provider, reg feeds.Registration) {
			if first/100 == 2 {
				t.Fatalf("the refused delivery was answered %d: GitHub would not send it again", first)
			}
			if code := post(t, p, reg); code != http.StatusOK {
				t.Fatalf("the redelivery = %d, want 200", code)
			}
		},
	})
}
