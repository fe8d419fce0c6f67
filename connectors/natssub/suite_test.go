package natssub

import (
	"encoding/json"
	"testing"

	"github.com/wispio/wisp/feeds"
	"github.com/wispio/wisp/feeds/feedstest"
	"github.com/wispio/wisp/internal/testenv"
)

// TestProviderConformance runs the feeds.Provider suite on the suite's
// nats-server: Emit publishes a message on the feed's subject.
func TestProviderConformance(t *testing.T) {
	url := testenv.NATS(t)
	feedstest.Run(t, feedstest.Provider{
		New:  func(*testing.T) feeds.Provider { return testProvider() },
		Feed: MessagesFeed,
		Params: func(t *testing.T) map[string]json.RawMessage {
			return rawParams(t, map[string]any{"url": url, "subject": "wisp.test." + unique(t)})
		},
		Ready: func(t *testing.T, sink *feedstest.Sink) { sink.WaitReport(t, true) },
		Emit: func(t *testing.T, _ feeds.Provider, reg feeds.Registration) {
			var subject string
			if err := json.Unmarshal(reg.Params["subject"], &subject); err != nil {
				t.Fatal(err)
			}
			nc := client(t, url)
			if err := nc.Publish(subject, []byte(`{"n":1}`)); err != nil {
				t.Fatal(err)
			}
			if err := nc.Flush(); err != nil {
				t.Fatal(err)
			}
		},
	})
}
