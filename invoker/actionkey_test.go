package invoker

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wispio/wisp/actionkey"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/routing"
	"github.com/wispio/wisp/store/bolt"
)

// TestActivationKey: a provide-api-key action gets a key of its subject
// that expires at its deadline plus the grace, or with the activation key
// of the action that invoked it, whichever comes first: a chain of
// invocations cannot renew a key.
func TestActivationKey(t *testing.T) {
	ctx := context.Background()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "wisp.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	inv := &Invoker{keys: actionkey.New(st)}
	deadline := time.UnixMilli(1_800_000_000_000)
	withKey := &entity.Action{Annotations: entity.Params{}.Set("provide-api-key", true)}
	for _, tc := range []struct {
		name    string
		action  *entity.Action
		bound   time.Time // the caller's key's expiry, on the invocation
		want    time.Time
		wantKey bool
	}{
		{"not annotated", &entity.Action{}, time.Time{}, time.Time{}, false},
		{"called with an owner's key", withKey, time.Time{}, deadline.Add(actionkey.Grace), true},
		{"called by an action whose key ends first", withKey, deadline.Add(-time.Second), deadline.Add(-time.Second), true},
		{"called by an action whose key ends later", withKey, deadline.Add(time.Hour), deadline.Add(actionkey.Grace), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &routing.Invocation{ActivationID: "a1", Subject: "ns"}
			if !tc.bound.IsZero() {
				m.KeyExpires = tc.bound.UnixMilli()
			}
			key, err := inv.activationKey(ctx, m, tc.action, deadline)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.wantKey {
				if key != "" {
					t.Fatalf("key %q for an action that did not ask", key)
				}
				return
			}
			uuid, secret, _ := strings.Cut(key, ":")
			ns, err := inv.keys.Verify(ctx, uuid, secret, tc.want.Add(-time.Millisecond))
			if err != nil || ns != "ns" {
				t.Fatalf("Verify before %v = %q, %v; want ns", tc.want, ns, err)
			}
			if exp, _ := actionkey.Expiry(key); !exp.Equal(tc.want) {
				t.Fatalf("expires %v, want %v", exp, tc.want)
			}
		})
	}
}
