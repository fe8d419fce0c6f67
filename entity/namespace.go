package entity

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"
)

// Subject is a namespace's owner and credentials. The key is stored only as
// a SHA-256 hash: keys are 64 random hex digits, so a slow hash adds nothing.
type Subject struct {
	Namespace string `json:"namespace"`
	UUID      string `json:"uuid"`
	KeyHash   string `json:"keyHash"`
	Created   int64  `json:"created"`
	// Limits are the namespace's own throttles; nil keeps the server's.
	Limits *NamespaceLimits `json:"limits,omitempty"`
}

// Credentials is the uuid:key pair clients send with Basic auth.
type Credentials struct {
	UUID string
	Key  string
}

// String renders the credentials as uuid:key.
func (c Credentials) String() string { return c.UUID + ":" + c.Key }

// NewCredentials generates a random uuid and a 64-hex-digit key.
func NewCredentials() Credentials {
	var u [16]byte
	var k [32]byte
	_, _ = rand.Read(u[:])
	_, _ = rand.Read(k[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u[:])
	return Credentials{
		UUID: fmt.Sprintf("%s-%s-%s-%s-%s", h[0:8], h[8:12], h[12:16], h[16:20], h[20:32]),
		Key:  hex.EncodeToString(k[:]),
	}
}

// ParseCredentials splits "uuid:key".
func ParseCredentials(s string) (Credentials, error) {
	u, k, ok := strings.Cut(s, ":")
	if !ok || u == "" || k == "" {
		return Credentials{}, Invalid("auth", "must be of the form uuid:key")
	}
	return Credentials{UUID: u, Key: k}, nil
}

// HashKey returns the stored form of a key.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// Matches reports whether key is this subject's key, in constant time.
func (s *Subject) Matches(key string) bool {
	return subtle.ConstantTimeCompare([]byte(HashKey(key)), []byte(s.KeyHash)) == 1
}

// NamespaceLimits are a namespace's own throttles, overriding the server's
// defaults; a nil field keeps the default. Zero means unlimited. OpenWhisk
// keeps the same three in the namespace's limits document.
type NamespaceLimits struct {
	InvocationsPerMinute  *int `json:"invocationsPerMinute,omitempty"`
	ConcurrentInvocations *int `json:"concurrentInvocations,omitempty"`
	FiresPerMinute        *int `json:"firesPerMinute,omitempty"`
}

// Validate checks that every set limit is zero or positive.
func (l *NamespaceLimits) Validate() error {
	for _, f := range []struct {
		name string
		v    *int
	}{
		{"invocationsPerMinute", l.InvocationsPerMinute},
		{"concurrentInvocations", l.ConcurrentInvocations},
		{"firesPerMinute", l.FiresPerMinute},
	} {
		if f.v != nil && *f.v < 0 {
			return Invalid("limits."+f.name, "must be 0 (unlimited) or more")
		}
	}
	return nil
}

// IsZero reports whether no limit is set.
func (l *NamespaceLimits) IsZero() bool {
	return l == nil || (l.InvocationsPerMinute == nil && l.ConcurrentInvocations == nil && l.FiresPerMinute == nil)
}
