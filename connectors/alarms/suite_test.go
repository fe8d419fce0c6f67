package alarms

import (
	"encoding/json"
	"testing"

	"github.com/wispio/wisp/feeds"
	"github.com/wispio/wisp/feeds/feedstest"
)

// TestProviderConformance runs the feeds.Provider suite on a fake clock:
// Emit moves it to the alarm's next fire; a refused fire is retried after
// the retry delay, which Redeliver lets pass.
func TestProviderConformance(t *testing.T) {
	clocks := map[feeds.Provider]*fakeClock{} // the clock of each provider New made
	tick := func(t *testing.T, p feeds.Provider, _ feeds.Registration) {
		c := clocks[p]
		c.set(c.waitTimer(t))
	}
	feedstest.Run(t, feedstest.Provider{
		New: func(*testing.T) feeds.Provider {
			c := newFakeClock(t0)
			p := newProvider(c)
			clocks[p] = c
			return p
		},
		Feed: FeedAlarm,
		Params: func(*testing.T) map[string]json.RawMessage {
			return raw(map[string]any{"cron": "* * * * * *", "trigger_payload": map[string]any{"k": "v"}})
		},
		Emit:      tick,
		Redeliver: tick,
	})
}
