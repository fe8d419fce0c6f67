package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wispio/wisp/actionkey"
	"github.com/wispio/wisp/entity"
)

// TestActivationKeys: an activation key acts as its namespace until it
// expires, and as nothing else.
func TestActivationKeys(t *testing.T) {
	f := newFixture(t)
	now := time.UnixMilli(1_800_000_000_000)
	f.api.auth.now = func() time.Time { return now }
	if status, _, body := f.do(t, http.MethodPut, "/api/v1/namespaces/_/actions/hello", nodeAction, &f.auth); status != http.StatusOK {
		t.Fatalf("create = %d %s", status, body)
	}
	keys := actionkey.New(f.store)
	mint := func(ns string, expires time.Time) *entity.Credentials {
		cred, err := keys.Mint(t.Context(), ns, entity.NewActivationID(), expires)
		if err != nil {
			t.Fatal(err)
		}
		uuid, key, _ := strings.Cut(cred, ":")
		return &entity.Credentials{UUID: uuid, Key: key}
	}
	valid := mint("me", now.Add(time.Minute))
	forged := &entity.Credentials{UUID: valid.UUID, Key: strings.Repeat("0", len(valid.Key))}
	other := mint("them", now.Add(time.Minute))
	swapped := &entity.Credentials{UUID: other.UUID, Key: valid.Key}
	ghost := mint("ghost", now.Add(time.Minute))

	for _, tc := range []struct {
		name         string
		at           time.Time
		method, path string
		creds        *entity.Credentials
		want         int
	}{
		{"lists its namespace", now, http.MethodGet, "/api/v1/namespaces/_/actions", valid, http.StatusOK},
		{"lists its namespace by name", now, http.MethodGet, "/api/v1/namespaces/me/actions", valid, http.StatusOK},
		{"reads an action", now, http.MethodGet, "/api/v1/namespaces/_/actions/hello", valid, http.StatusOK},
		{"until just before expiry", now.Add(time.Minute - time.Millisecond), http.MethodGet, "/api/v1/namespaces/_/actions", valid, http.StatusOK},
		{"not at expiry", now.Add(time.Minute), http.MethodGet, "/api/v1/namespaces/_/actions", valid, http.StatusUnauthorized},
		{"not after expiry", now.Add(time.Hour), http.MethodGet, "/api/v1/namespaces/_/actions", valid, http.StatusUnauthorized},
		{"not another namespace", now, http.MethodGet, "/api/v1/namespaces/them/actions", valid, http.StatusForbidden},
		{"no writes to another namespace", now, http.MethodPut, "/api/v1/namespaces/them/actions/x", valid, http.StatusForbidden},
		{"forged key", now, http.MethodGet, "/api/v1/namespaces/_/actions", forged, http.StatusUnauthorized},
		{"another key's signature", now, http.MethodGet, "/api/v1/namespaces/_/actions", swapped, http.StatusUnauthorized},
		{"namespace gone", now, http.MethodGet, "/api/v1/namespaces/_/actions", ghost, http.StatusUnauthorized},
		{"owner's key unaffected", now.Add(time.Hour), http.MethodGet, "/api/v1/namespaces/_/actions", &f.auth, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now = tc.at
			status, obj, body := f.do(t, tc.method, tc.path, "{}", tc.creds)
			if status != tc.want {
				t.Fatalf("%s %s = %d %s, want %d", tc.method, tc.path, status, body, tc.want)
			}
			if status == http.StatusUnauthorized && (obj["error"] != msgBadAuth || obj["code"] == nil) {
				t.Fatalf("401 body %s, want OpenWhisk's error and code", body)
			}
		})
	}
}

// TestIdentityKeyExpires: what the activations a caller starts learn of
// its key is the expiry of an activation key, nothing of an owner's.
func TestIdentityKeyExpires(t *testing.T) {
	f := newFixture(t)
	expires := time.UnixMilli(1_800_000_000_000)
	activationKey, err := actionkey.New(f.store).Mint(t.Context(), "ns", entity.NewActivationID(), expires)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		id   identity
		want time.Time
	}{
		{"owner's key", identity{Namespace: "ns", Key: entity.NewCredentials().String()}, time.Time{}},
		{"activation key", identity{Namespace: "ns", Key: activationKey, Activation: true}, expires},
	} {
		if got := tc.id.keyExpires(); !got.Equal(tc.want) {
			t.Errorf("%s: keyExpires() = %v, want %v", tc.name, got, tc.want)
		}
	}
}
