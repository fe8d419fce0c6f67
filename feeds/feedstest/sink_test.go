package feedstest

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/wispio/wisp/feeds"
)

func event(payload, cursor string) feeds.Event {
	ev := feeds.Event{Cursor: cursor}
	if payload != "" {
		ev.Payload = json.RawMessage(payload)
	}
	return ev
}

// TestSinkRecords: accepted events in order, checkpoints apart, refusals
// counted and not recorded, the cursor of the last accepted delivery.
func TestSinkRecords(t *testing.T) {
	s := NewSink()
	s.FailNext(1)
	steps := []struct {
		ev      feeds.Event
		refused bool
	}{
		{event(`{"n":1}`, "c1"), true}, // FailNext(1)
		{event(`{"n":1}`, "c1"), false},
		{event("", "c2"), false}, // a checkpoint
		{event(`{"n":2}`, "c3"), false},
	}
	for i, st := range steps {
		if err := s.Deliver(context.Background(), st.ev); errors.Is(err, ErrRefused) != st.refused {
			t.Fatalf("step %d: Deliver = %v, want refused %v", i, err, st.refused)
		}
	}
	s.FailWhen(func(ev feeds.Event) bool { return string(ev.Payload) == `{"n":3}` })
	if err := s.Deliver(context.Background(), event(`{"n":3}`, "c4")); !errors.Is(err, ErrRefused) {
		t.Fatalf("FailWhen: Deliver = %v", err)
	}
	if got := s.Events(); len(got) != 2 || string(got[0].Payload) != `{"n":1}` || string(got[1].Payload) != `{"n":2}` {
		t.Errorf("Events = %v", got)
	}
	if got := s.Checkpoints(); !slices.Equal(got, []string{"c2"}) {
		t.Errorf("Checkpoints = %q", got)
	}
	if n := len(s.Refused()); n != 2 {
		t.Errorf("%d refused, want 2", n)
	}
	if c := s.Cursor(); c != "c3" {
		t.Errorf("Cursor = %q, want c3 (a refused delivery does not move it)", c)
	}
	if ev := s.Next(t); ev.Cursor != "c1" {
		t.Errorf("first Next = %q", ev.Cursor)
	}
	if ev := s.Next(t); ev.Cursor != "c3" {
		t.Errorf("second Next = %q", ev.Cursor)
	}
}

// TestSinkWaits: the waits return what a concurrent feed does.
func TestSinkWaits(t *testing.T) {
	s := NewSink()
	go func() {
		s.Report(errors.New("lost"))
		s.Report(nil)
		for i := range 3 {
			_ = s.Deliver(context.Background(), event(`{}`, string(rune('a'+i))))
		}
		s.Done(true)
	}()
	if err := s.WaitReport(t, true); err != nil {
		t.Errorf("WaitReport(healthy) = %v", err)
	}
	if got := s.WaitEvents(t, 3); len(got) != 3 {
		t.Errorf("WaitEvents = %v", got)
	}
	if !s.WaitDone(t) {
		t.Error("WaitDone = false, want the deleteTrigger given")
	}
	if got := s.Reports(); len(got) != 2 || got[0] == nil || got[1] != nil {
		t.Errorf("Reports = %v", got)
	}
}
