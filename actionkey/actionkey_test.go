package actionkey

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/store/bolt"
)

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "wisp.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	keys := New(st)
	now := time.UnixMilli(1_800_000_000_000)
	cred, err := keys.Mint(ctx, "guest@example.com", "0123456789abcdef0123456789abcdef", now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	uuid, key, ok := strings.Cut(cred, ":")
	if !ok || !IsActivationKey(uuid) || strings.Contains(key, ":") {
		t.Fatalf("credential %q is not uuid:key with the marker", cred)
	}
	other, err := keys.Mint(ctx, "them", "0123456789abcdef0123456789abcdef", now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	otherUUID, otherKey, _ := strings.Cut(other, ":")
	// Another store, another secret: its keys are forgeries here.
	foreign, err := New(openStore(t)).Mint(ctx, "guest@example.com", "0123456789abcdef0123456789abcdef", now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	foreignUUID, foreignKey, _ := strings.Cut(foreign, ":")
	later, _, _ := strings.Cut(strings.Replace(cred, uuid[strings.LastIndexByte(uuid, '.'):], ".zzzzzzzzz", 1), ":")

	for _, tc := range []struct {
		name, uuid, key string
		at              time.Time
		wantNS          string
		wantErr         error
	}{
		{"valid", uuid, key, now, "guest@example.com", nil},
		{"just before expiry", uuid, key, now.Add(time.Minute - time.Millisecond), "guest@example.com", nil},
		{"at expiry", uuid, key, now.Add(time.Minute), "", ErrExpired},
		{"after expiry", uuid, key, now.Add(time.Hour), "", ErrExpired},
		{"key of another activation key", uuid, otherKey, now, "", ErrInvalid},
		{"namespace swapped", otherUUID, key, now, "", ErrInvalid},
		{"expiry pushed back", later, key, now, "", ErrInvalid},
		{"another secret", foreignUUID, foreignKey, now, "", ErrInvalid},
		{"altered key", uuid, flipLast(key), now, "", ErrInvalid},
		{"empty key", uuid, "", now, "", ErrInvalid},
		{"no marker", strings.TrimPrefix(uuid, Marker), key, now, "", ErrInvalid},
		{"marker only", Marker, key, now, "", ErrInvalid},
		{"missing part", Marker + "Z3Vlc3Q.1", key, now, "", ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns, err := keys.Verify(ctx, tc.uuid, tc.key, tc.at)
			if ns != tc.wantNS || !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("Verify = %q, %v; want %q, %v", ns, err, tc.wantNS, tc.wantErr)
			}
		})
	}
	if exp, ok := Expiry(cred); !ok || !exp.Equal(now.Add(time.Minute)) {
		t.Fatalf("Expiry = %v, %v", exp, ok)
	}
	if _, ok := Expiry("0123:abcd"); ok {
		t.Fatal("Expiry accepted an owner's key")
	}
}

// TestSecretShared: every Keys over one store (the nodes of a cluster)
// uses the one secret, even when they create it at the same time.
func TestSecretShared(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	expires := time.Now().Add(time.Hour)
	creds := make([]string, 8)
	var wg sync.WaitGroup
	for i := range creds {
		wg.Go(func() {
			c, err := New(st).Mint(ctx, "ns", "id", expires)
			if err != nil {
				t.Error(err)
			}
			creds[i] = c
		})
	}
	wg.Wait()
	for _, c := range creds[1:] {
		if c != creds[0] {
			t.Fatalf("two nodes minted %q and %q for the same activation", creds[0], c)
		}
	}
	uuid, key, _ := strings.Cut(creds[0], ":")
	if ns, err := New(st).Verify(ctx, uuid, key, time.Now()); err != nil || ns != "ns" {
		t.Fatalf("a fresh Keys over the store: Verify = %q, %v", ns, err)
	}
}

// flipLast changes the last hex digit of s.
func flipLast(s string) string {
	last := "0"
	if s[len(s)-1] == '0' {
		last = "1"
	}
	return s[:len(s)-1] + last
}
