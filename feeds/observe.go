package feeds

import (
	"time"

	"github.com/wispio/wisp/entity"
)

// Observer is told what happens to feed events, for metrics (package
// metrics implements it). Its methods are safe for concurrent use and
// quick: they run on the delivery and fire paths. provider is the
// catalogue package (Provider.Name), a bounded label; trigger is the
// feed's trigger.
type Observer interface {
	// FeedEventReceived: a provider delivered an event (a payload; a bare
	// cursor is not an event), whether it is then taken or refused.
	FeedEventReceived(provider string, trigger entity.FQN)
	// FeedEventFired: an event's trigger was fired, lag after the event
	// was received (retries and restarts included).
	FeedEventFired(provider string, trigger entity.FQN, lag time.Duration)
	// FeedEventFailed: an event will never fire: refused (over the limits,
	// not an object), not stored, or dropped from the outbox (no fire can
	// take it, its trigger is gone).
	FeedEventFailed(provider string, trigger entity.FQN)
}

// nopObserver observes nothing (Config.Observer nil).
type nopObserver struct{}

func (nopObserver) FeedEventReceived(string, entity.FQN)             {}
func (nopObserver) FeedEventFired(string, entity.FQN, time.Duration) {}
func (nopObserver) FeedEventFailed(string, entity.FQN)               {}

// OutboxDepth counts the events delivered and not yet fired, by provider:
// read at each metrics scrape.
func (m *Manager) OutboxDepth() map[string]int {
	m.mu.Lock()
	entries := make([]*entry, 0, len(m.entries))
	for _, e := range m.entries {
		entries = append(entries, e)
	}
	m.mu.Unlock()
	depth := map[string]int{}
	for _, e := range entries {
		e.mu.Lock()
		depth[e.providerName] += len(e.queue) + e.inflight
		e.mu.Unlock()
	}
	return depth
}
