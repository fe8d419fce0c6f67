package routing

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/wispio/wisp/actionkey"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/store/bolt"
)

// TestOwnerKeyStaysOffTheBus: a caller's own key never travels with an
// invocation, not even to a provide-api-key action (the invoker mints that
// one a key); an activation key does, to bound the one minted.
func TestOwnerKeyStaysOffTheBus(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "wisp.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := t.Context()
	action := entity.Action{Namespace: "ns", Name: "keyed", Exec: entity.Exec{Kind: "nodejs:20", Code: "x"},
		Annotations: entity.Params{}.Set("provide-api-key", true)}
	if _, err := store.PutDoc(ctx, st, "ns", store.Actions, "keyed", "", action); err != nil {
		t.Fatal(err)
	}
	activationKey, err := actionkey.New(st).Mint(ctx, "ns", "a0", time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	ctrl, seen := startBus(t, nil)
	a := NewActivator(st, ctrl)
	for _, tc := range []struct{ name, key, want string }{
		{"owner's key", entity.NewCredentials().String(), ""},
		{"activation key", activationKey, activationKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := a.Activate(ctx, Request{Action: entity.FQN{Namespace: "ns", Name: "keyed"}, APIKey: tc.key}); err != nil {
				t.Fatal(err)
			}
			if inv := <-seen; inv.APIKey != tc.want {
				t.Fatalf("the invocation carries key %q, want %q", inv.APIKey, tc.want)
			}
		})
	}
}
