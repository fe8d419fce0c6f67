package mqtt

import (
	"encoding/json"
	"testing"

	"github.com/wispio/wisp/feeds"
	"github.com/wispio/wisp/feeds/feedstest"
	"github.com/wispio/wisp/internal/testenv"
)

// TestProviderConformance runs the feeds.Provider suite on Mosquitto: Emit
// publishes a QoS 1 message on the feed's topic.
func TestProviderConformance(t *testing.T) {
	url := testenv.Mosquitto(t)
	feedstest.Run(t, feedstest.Provider{
		New:  func(*testing.T) feeds.Provider { return testProvider() },
		Feed: MessagesFeed,
		Params: func(t *testing.T) map[string]json.RawMessage {
			return rawParams(t, map[string]any{"url": url, "topic": uniqueTopic(t), "qos": 1})
		},
		Ready: func(t *testing.T, sink *feedstest.Sink) { sink.WaitReport(t, true) },
		Emit: func(t *testing.T, _ feeds.Provider, reg feeds.Registration) {
			var topic string
			if err := json.Unmarshal(reg.Params["topic"], &topic); err != nil {
				t.Fatal(err)
			}
			publish(t, publisher(t, url), topic, 1, false, []byte(`{"n":1}`))
		},
	})
}
