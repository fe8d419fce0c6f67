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
	callerKey := func(expires time.Time) string {
		k, err := inv.keys.Mint(ctx, "caller", "c0ffee", expires)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	withKey := &entity.Action{Annotations: entity.Params{}.Set("provide-api-key", true)}
	for _, tc := range []struct {
		name    string
		action  *entity.Action
		apiKey  string // the caller's, on the invocation
		want    time.Time
		wantKey bool
	}{
		{"not annotated", &entity.Action{}, "", time.Time{}, false},
		{"called with an owner's key", withKey, "", deadline.Add(actionkey.Grace), true},
		{"called by an action whose key ends first", withKey, callerKey(deadline.Add(-time.Second)), deadline.Add(-time.Second), true},
		{"called by an action whose key ends later", withKey, callerKey(deadline.Add(time.Hour)), deadline.Add(actionkey.Grace), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &routing.Invocation{ActivationID: "a1", Subject: "ns", APIKey: tc.apiKey}
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
