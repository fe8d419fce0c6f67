package feedstest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/wispio/wisp/feeds"
)

// Wait bounds every wait of the suite and of Sink: a feed that has not
// delivered (or reported, or finished) by then fails the test.
const Wait = 20 * time.Second

// ErrRefused is what a Sink told to fail answers Deliver.
var ErrRefused = errors.New("feedstest: sink refused the event")

// Sink is a feeds.Sink that records what a feed does: the events it
// delivers, its Report and Done calls. It can be told to refuse
// deliveries (FailNext, FailWhen) and waits, within Wait, for what a test
// expects (Next, WaitEvents, NextReport, WaitDone). A delivery with no
// Payload (a cursor-only checkpoint) is recorded apart, in Checkpoints.
// The zero value is not ready: use NewSink.
type Sink struct {
	mu          sync.Mutex    // guards every field below
	changed     chan struct{} // closed and replaced on every recorded call
	events      []feeds.Event // accepted events with a payload, in order
	checkpoints []string      // accepted cursor-only deliveries
	cursor      string        // the cursor of the last accepted delivery
	refused     []feeds.Event // deliveries refused, in order
	reports     []error       // every Report, nil included
	done        []bool        // every Done's deleteTrigger
	failNext    int
	failWhen    func(feeds.Event) bool
	nextEvent   int // Next's read position in events
	nextReport  int // NextReport's read position in reports
}

// NewSink returns an empty Sink that accepts every delivery.
func NewSink() *Sink { return &Sink{changed: make(chan struct{})} }

// Deliver records ev, or refuses it with ErrRefused when told to.
func (s *Sink) Deliver(_ context.Context, ev feeds.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.signal()
	if s.failNext > 0 || (s.failWhen != nil && s.failWhen(ev)) {
		if s.failNext > 0 {
			s.failNext--
		}
		s.refused = append(s.refused, ev)
		return ErrRefused
	}
	if ev.Cursor != "" {
		s.cursor = ev.Cursor
	}
	if ev.Payload == nil {
		s.checkpoints = append(s.checkpoints, ev.Cursor)
		return nil
	}
	s.events = append(s.events, ev)
	return nil
}

// Report records err (nil included).
func (s *Sink) Report(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.signal()
	s.reports = append(s.reports, err)
}

// Done records the end of the feed.
func (s *Sink) Done(deleteTrigger bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.signal()
	s.done = append(s.done, deleteTrigger)
}

// signal wakes the waiters; s.mu is held.
func (s *Sink) signal() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// FailNext makes the next n deliveries fail.
func (s *Sink) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = n
}

// FailWhen makes every delivery for which fail is true fail; nil stops it.
func (s *Sink) FailWhen(fail func(feeds.Event) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failWhen = fail
}

// Events returns the events accepted so far.
func (s *Sink) Events() []feeds.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]feeds.Event(nil), s.events...)
}

// Count is the number of events accepted so far.
func (s *Sink) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.events)
}

// Last is the last event accepted; it fails t when there is none.
func (s *Sink) Last(t testing.TB) feeds.Event {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.events) == 0 {
		t.Fatal("no event delivered")
	}
	return s.events[len(s.events)-1]
}

// Cursor is the cursor of the last accepted delivery, checkpoints
// included ("" before any).
func (s *Sink) Cursor() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursor
}

// Checkpoints are the cursors of the cursor-only deliveries accepted.
func (s *Sink) Checkpoints() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.checkpoints...)
}

// Refused returns the deliveries refused so far.
func (s *Sink) Refused() []feeds.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]feeds.Event(nil), s.refused...)
}

// Reports returns every Report so far.
func (s *Sink) Reports() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.reports...)
}

// DoneCalls returns the deleteTrigger of every Done so far.
func (s *Sink) DoneCalls() []bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]bool(nil), s.done...)
}

// await waits, within Wait, until ready (called with s.mu held) is true,
// and fails t with what when it is not. It returns with s.mu held.
func (s *Sink) await(t testing.TB, what string, ready func() bool) {
	t.Helper()
	timeout := time.NewTimer(Wait)
	defer timeout.Stop()
	s.mu.Lock()
	for !ready() {
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-timeout.C:
			t.Fatalf("feedstest: no %s within %v", what, Wait)
		}
		s.mu.Lock()
	}
}

// Next waits for the event after the one the last Next returned (the
// first one on the first call) and returns it.
func (s *Sink) Next(t testing.TB) feeds.Event {
	t.Helper()
	s.await(t, "event delivered", func() bool { return s.nextEvent < len(s.events) })
	defer s.mu.Unlock()
	s.nextEvent++
	return s.events[s.nextEvent-1]
}

// WaitEvents waits until at least n events are accepted and returns them
// all; Next then continues after them.
func (s *Sink) WaitEvents(t testing.TB, n int) []feeds.Event {
	t.Helper()
	s.await(t, "events delivered", func() bool { return len(s.events) >= n })
	defer s.mu.Unlock()
	s.nextEvent = len(s.events)
	return append([]feeds.Event(nil), s.events...)
}

// NextReport waits for the Report after the one the last NextReport
// returned and returns its error.
func (s *Sink) NextReport(t testing.TB) error {
	t.Helper()
	s.await(t, "report", func() bool { return s.nextReport < len(s.reports) })
	defer s.mu.Unlock()
	s.nextReport++
	return s.reports[s.nextReport-1]
}

// WaitReport waits for the next Report whose error is nil (healthy true)
// or not nil (healthy false), skipping the others, and returns it.
func (s *Sink) WaitReport(t testing.TB, healthy bool) error {
	t.Helper()
	for {
		if err := s.NextReport(t); (err == nil) == healthy {
			return err
		}
	}
}

// WaitDone waits for the first Done and returns its deleteTrigger.
func (s *Sink) WaitDone(t testing.TB) bool {
	t.Helper()
	s.await(t, "Done", func() bool { return len(s.done) > 0 })
	defer s.mu.Unlock()
	return s.done[0]
}

// timer fires after Wait; it is stopped at the end of the test.
func timer(t testing.TB) <-chan time.Time {
	tm := time.NewTimer(Wait)
	t.Cleanup(func() { tm.Stop() })
	return tm.C
}
