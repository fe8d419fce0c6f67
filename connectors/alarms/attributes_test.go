package alarms

import (
	"fmt"
	"testing"
	"time"
)

// TestAlarmAttributes: a tick's CloudEvents attributes name the alarm
// (its trigger) and the scheduled time, the same for a tick delivered
// again.
func TestAlarmAttributes(t *testing.T) {
	a := &alarm{trigger: "/ns/nightly", spec: &spec{feed: FeedAlarm}}
	at := time.Date(2026, 12, 3, 2, 0, 0, 0, time.FixedZone("CET", 3600))
	got := a.attributes(at)
	want := "/ns/nightly@2026-12-03T01:00:00Z /whisk.system/alarms wisp.alarms.alarm /ns/nightly 2026-12-03T01:00:00Z"
	if s := fmt.Sprintf("%s %s %s %s %s", got.ID, got.Source, got.Type, got.Subject, got.Time); s != want {
		t.Fatalf("%q, want %q", s, want)
	}
	if again := a.attributes(at); again.ID != got.ID {
		t.Fatal("the same tick got another id")
	}
}
