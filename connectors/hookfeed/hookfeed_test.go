package hookfeed

import (
	"context"
	"testing"

	"github.com/wispio/wisp/feeds"
	"github.com/wispio/wisp/feeds/feedstest"
)

// refuseWhen makes a feedstest.Sink refuse every delivery while *fail.
func refuseWhen(fail *bool) func(feeds.Event) bool {
	return func(feeds.Event) bool { return *fail }
}

func TestDeliveries(t *testing.T) {
	s := feedstest.NewSink()
	d, err := NewDeliveries(s, 2, "")
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		id        string
		fail      bool
		wantDup   bool
		wantErr   bool
		wantCount int // events delivered so far
	}{
		{id: "a", wantCount: 1},
		{id: "a", wantDup: true, wantCount: 1},
		{id: "", wantCount: 2}, // no id: never a duplicate
		{id: "", wantCount: 3},
		{id: "b", fail: true, wantErr: true, wantCount: 3}, // not stored: not remembered
		{id: "b", wantCount: 4},
		{id: "c", wantCount: 5}, // "a" falls out of the last 2
		{id: "a", wantCount: 6},
		{id: "c", wantDup: true, wantCount: 6},
	}
	fail := false // read by s under its lock, set between deliveries
	s.FailWhen(refuseWhen(&fail))
	for i, st := range steps {
		fail = st.fail
		dup, err := d.Deliver(context.Background(), st.id, []byte(`{}`), nil)
		if dup != st.wantDup || (err != nil) != st.wantErr || s.Count() != st.wantCount {
			t.Fatalf("step %d (%s): dup %v err %v events %d", i, st.id, dup, err, s.Count())
		}
	}
	// A restart from the last cursor remembers the recent ids.
	again, err := NewDeliveries(s, 2, s.Cursor())
	if err != nil {
		t.Fatal(err)
	}
	if dup, _ := again.Deliver(context.Background(), "a", []byte(`{}`), nil); !dup {
		t.Fatal("a restarted hook fired a recent delivery again")
	}
	if _, err := NewDeliveries(s, 2, "not json"); err == nil {
		t.Fatal("an unreadable cursor was accepted")
	}
}

func TestSet(t *testing.T) {
	var s Set[int]
	one, two := new(int), new(int)
	if err := s.Add("x", one); err != nil {
		t.Fatal(err)
	}
	if err := s.Add("x", two); err == nil {
		t.Fatal("two hooks at one id")
	}
	s.Remove("x", two) // not the hook at x: no effect
	if s.Lookup("x") != one || len(s.IDs()) != 1 {
		t.Fatal("Remove of another hook removed the running one")
	}
	s.Remove("x", one)
	if s.Lookup("x") != nil {
		t.Fatal("the hook is still there")
	}
}

// TestDeliverRepeatable: ids that a source reuses for new events (MQTT
// packet ids) block only what the source marks as a redelivery.
func TestDeliverRepeatable(t *testing.T) {
	s := feedstest.NewSink()
	d, err := NewDeliveries(s, 3, "")
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		id         string
		redelivery bool
		wantDup    bool
		wantCount  int
	}{
		{id: "1:aa", wantCount: 1},
		{id: "1:aa", wantCount: 2},                                   // the same id again, not marked: a new event
		{id: "1:aa", redelivery: true, wantDup: true, wantCount: 2},  // marked and held: a duplicate
		{id: "2:bb", redelivery: true, wantCount: 3},                 // marked but never seen: delivered
		{id: "2:bb", redelivery: true, wantDup: true, wantCount: 3},  // and now held
		{id: "3:cc", wantCount: 4},                                   //
		{id: "4:dd", wantCount: 5},                                   // "1:aa" falls out of the last 3
		{id: "1:aa", redelivery: true, wantDup: false, wantCount: 6}, // forgotten: delivered
	}
	for i, st := range steps {
		dup, err := d.DeliverRepeatable(context.Background(), st.id, []byte(`{}`), st.redelivery, nil)
		if err != nil || dup != st.wantDup || s.Count() != st.wantCount {
			t.Fatalf("step %d (%s, redelivery %v): dup %v err %v events %d", i, st.id, st.redelivery, dup, err, s.Count())
		}
	}
	again, err := NewDeliveries(s, 3, s.Cursor())
	if err != nil {
		t.Fatal(err)
	}
	if dup, _ := again.DeliverRepeatable(context.Background(), "4:dd", []byte(`{}`), true, nil); !dup {
		t.Fatal("after a restart, a redelivered message fired again")
	}
}
