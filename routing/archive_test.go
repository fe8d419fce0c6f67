package routing

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/store/bolt"
)

// TestArchivePrunesByAge: archiving an event drops the events older than
// the policy's days, and an event archived twice (its fire run again) is
// kept once.
func TestArchivePrunesByAge(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "wisp.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &Firer{archives: st, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	entry := &TriggerEntry{Trigger: fqn("ns", "T"), Archive: &entity.ArchivePolicy{Days: 7}}
	now := time.Now()
	for _, q := range []queuedFire{
		{ActivationID: "old1", Start: now.Add(-10 * 24 * time.Hour).UnixMilli()},
		{ActivationID: "old2", Start: now.Add(-8 * 24 * time.Hour).UnixMilli()},
		{ActivationID: "recent", Start: now.Add(-6 * 24 * time.Hour).UnixMilli()},
		{ActivationID: "new", Start: now.UnixMilli()},
		{ActivationID: "new", Start: now.UnixMilli()},
	} {
		q.Request = FireRequest{Trigger: entry.Trigger, Subject: "ns", Payload: entity.Params{}.Set("id", q.ActivationID)}
		if err := f.archive(t.Context(), entry, &q); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := st.List(t.Context(), "ns", ArchiveCollection, store.ListOptions{Prefix: "T/"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.Name[len(r.Name)-len("recent"):])
	}
	if len(recs) != 2 {
		t.Fatalf("archive holds %v, want the recent and the new event", ids)
	}
	events, err := f.archived(t.Context(), ReplayRequest{Trigger: entry.Trigger, Since: now.Add(-time.Hour)})
	if err != nil || len(events) != 1 || events[0].ActivationID != "new" {
		t.Fatalf("archived in the last hour = %+v, %v", events, err)
	}
}
