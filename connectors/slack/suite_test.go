package slack

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/wispio/wisp/feeds"
	"github.com/wispio/wisp/feeds/feedstest"
)

// TestProviderConformance runs the feeds.Provider suite on the Events API
// feed: Emit posts a signed event callback to the hook's URL; after a
// refusal, which must not answer 2xx, Redeliver posts it again as Slack's
// retries do.
func TestProviderConformance(t *testing.T) {
	var first int // the status of the last Emit's request
	post := func(t *testing.T, p feeds.Provider, reg feeds.Registration) int {
		st, err := parseState(reg.State)
		if err != nil {
			t.Fatal(err)
		}
		r := request{path: feeds.HookPath(p.Name()) + st.ID, contentType: "application/json",
			body: fixture(t, "event_callback.message.json"), at: time.Now(), secret: testSecret}
		return r.send(p.(*Provider)).Code
	}
	feedstest.Run(t, feedstest.Provider{
		New:  func(t *testing.T) feeds.Provider { return newProvider(t, "") },
		Feed: FeedEvents,
		Params: func(*testing.T) map[string]json.RawMessage {
			return map[string]json.RawMessage{"signingSecret": json.RawMessage(`"` + testSecret + `"`)}
		},
		Secrets: []string{testSecret},
		Emit:    func(t *testing.T, p feeds.Provider, reg feeds.Registration) { first = post(t, p, reg) },
		Redeliver: func(t *testing.T, p feeds.Provider, reg feeds.Registration) {
			if first/100 == 2 {
				t.Fatalf("the refused request was answered %d: Slack would not retry it", first)
			}
			if code := post(t, p, reg); code != http.StatusOK {
				t.Fatalf("the retry = %d, want 200", code)
			}
		},
	})
}
