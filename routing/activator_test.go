package routing

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/store/bolt"
)

// TestCallerKeyExpiryTravels: an invocation of a provide-api-key action
// carries the expiry of the caller's activation key (to bound the key the
// invoker mints), none for a caller whose key does not expire, and none
// for an action that gets no key.
func TestCallerKeyExpiryTravels(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "wisp.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := t.Context()
	for _, a := range []entity.Action{
		{Namespace: "ns", Name: "keyed", Exec: entity.Exec{Kind: "nodejs:20", Code: "x"}, Annotations: entity.Params{}.Set("provide-api-key", true)},
		{Namespace: "ns", Name: "plain", Exec: entity.Exec{Kind: "nodejs:20", Code: "x"}},
	} {
		if _, err := store.PutDoc(ctx, st, "ns", store.Actions, a.Name, "", a); err != nil {
			t.Fatal(err)
		}
	}
	expires := time.UnixMilli(1_900_000_000_000)
	ctrl, seen := startBus(t, nil)
	a := NewActivator(st, ctrl)
	for _, tc := range []struct {
		name, action string
		expires      time.Time
		want         int64
	}{
		{"owner's key", "keyed", time.Time{}, 0},
		{"activation key", "keyed", expires, expires.UnixMilli()},
		{"action without a key", "plain", expires, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := a.Activate(ctx, Request{Action: entity.FQN{Namespace: "ns", Name: tc.action}, KeyExpires: tc.expires}); err != nil {
				t.Fatal(err)
			}
			if inv := <-seen; inv.KeyExpires != tc.want {
				t.Fatalf("the invocation carries key expiry %d, want %d", inv.KeyExpires, tc.want)
			}
		})
	}
}
