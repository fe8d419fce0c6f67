package actionkey

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wispio/wisp/store"
)

// Marker starts the uuid of every activation key; no namespace owner's
// uuid has it.
const Marker = "wisp-activation."

// Grace is how long an activation key outlives its activation's deadline:
// a call the action made just before it is still answered, and the clocks
// of a cluster's nodes may differ a little.
const Grace = 30 * time.Second

// Where the secret lives: a system document, created once by the first
// node that needs it.
const (
	secretNamespace                   = "whisk.system"
	secretCollection store.Collection = "secrets"
	secretName                        = "activation-keys"
)

// Errors of Verify.
var (
	// ErrInvalid: the uuid is not an activation key's, or the key does not
	// match it (forged or altered).
	ErrInvalid = errors.New("invalid activation key")
	// ErrExpired: a genuine activation key past its expiry.
	ErrExpired = errors.New("activation key expired")
)

// Keys mints and verifies activation keys with the store's secret.
type Keys struct {
	store store.Store

	mu     sync.Mutex // guards secret
	secret []byte     // loaded (or created) on first use
}

// New returns Keys whose secret is read from st, or created there, on
// first use.
func New(st store.Store) *Keys { return &Keys{store: st} }

// IsActivationKey reports whether uuid is an activation key's.
func IsActivationKey(uuid string) bool { return strings.HasPrefix(uuid, Marker) }

// Mint returns the "uuid:key" credential of activation activationID,
// acting as namespace ns until expires.
func (k *Keys) Mint(ctx context.Context, ns, activationID string, expires time.Time) (string, error) {
	secret, err := k.load(ctx)
	if err != nil {
		return "", err
	}
	uuid := Marker + base64.RawURLEncoding.EncodeToString([]byte(ns)) + "." + activationID + "." +
		strconv.FormatInt(expires.UnixMilli(), 36)
	return uuid + ":" + sign(secret, uuid), nil
}

// Verify checks an activation key against now and returns the namespace
// it acts as; ErrInvalid or ErrExpired when it may not be used.
func (k *Keys) Verify(ctx context.Context, uuid, key string, now time.Time) (string, error) {
	ns, expires, ok := parse(uuid)
	if !ok {
		return "", ErrInvalid
	}
	secret, err := k.load(ctx)
	if err != nil {
		return "", err
	}
	if !hmac.Equal([]byte(sign(secret, uuid)), []byte(key)) {
		return "", ErrInvalid
	}
	if !now.Before(expires) {
		return "", ErrExpired
	}
	return ns, nil
}

// Expiry returns when the activation key credential ("uuid:key") expires,
// without verifying it; false when it is not an activation key.
func Expiry(credential string) (time.Time, bool) {
	uuid, _, _ := strings.Cut(credential, ":")
	_, expires, ok := parse(uuid)
	return expires, ok
}

// parse splits an activation key's uuid into its namespace and expiry.
func parse(uuid string) (string, time.Time, bool) {
	rest, ok := strings.CutPrefix(uuid, Marker)
	if !ok {
		return "", time.Time{}, false
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 || parts[1] == "" {
		return "", time.Time{}, false
	}
	ns, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || len(ns) == 0 {
		return "", time.Time{}, false
	}
	ms, err := strconv.ParseInt(parts[2], 36, 64)
	if err != nil {
		return "", time.Time{}, false
	}
	return string(ns), time.UnixMilli(ms), true
}

func sign(secret []byte, uuid string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("wisp activation key v1\x00"))
	m.Write([]byte(uuid))
	return hex.EncodeToString(m.Sum(nil))
}

// secretDoc is the stored secret.
type secretDoc struct {
	Secret []byte `json:"secret"`
}

// load returns the secret, reading it from the store or creating it there
// the first time; when two nodes create it at once, the first one stored
// wins and the other reads it.
func (k *Keys) load(ctx context.Context) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.secret != nil {
		return k.secret, nil
	}
	for range 3 {
		doc, _, err := store.GetDoc[secretDoc](ctx, k.store, secretNamespace, secretCollection, secretName)
		if err == nil && len(doc.Secret) >= 32 {
			k.secret = doc.Secret
			return k.secret, nil
		}
		if err == nil {
			return nil, fmt.Errorf("activation key secret: the stored one is too short (%d bytes)", len(doc.Secret))
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("activation key secret: %w", err)
		}
		fresh := make([]byte, 32)
		if _, err := rand.Read(fresh); err != nil {
			return nil, fmt.Errorf("activation key secret: %w", err)
		}
		_, err = store.PutDoc(ctx, k.store, secretNamespace, secretCollection, secretName, "", secretDoc{Secret: fresh})
		if err == nil {
			k.secret = fresh
			return k.secret, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("activation key secret: store: %w", err)
		}
	}
	return nil, errors.New("activation key secret: created and lost three times")
}
