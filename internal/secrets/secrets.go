package secrets

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the size of a key: AES-256.
const KeySize = 32

// prefix starts every sealed value: version, then the key's id.
const prefix = "wisp:sealed:v1:"

// Box seals and opens values under one key. It is safe for concurrent use.
type Box struct {
	aead cipher.AEAD
	id   string
	path string // where the key came from, for errors
}

// WrongKeyError means a value was sealed under another key than the Box's.
type WrongKeyError struct {
	// SealedWith and Have are the ids (8 hex digits) of the value's key
	// and of the Box's key; Path is the Box's key file.
	SealedWith, Have, Path string
}

func (e *WrongKeyError) Error() string {
	return fmt.Sprintf("secret sealed with key %s, but the secret key in %s is key %s: start with the --secret-key-file that sealed it",
		e.SealedWith, e.Path, e.Have)
}

// New returns a Box over key (KeySize bytes); path names it in errors.
func New(key []byte, path string) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secret key %s: %d bytes, want %d", path, len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret key %s: %w", path, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret key %s: %w", path, err)
	}
	sum := sha256.Sum256(append([]byte("wisp secret key id\x00"), key...))
	return &Box{aead: aead, id: hex.EncodeToString(sum[:4]), path: path}, nil
}

// LoadKeyFile reads an operator's key file: 32 bytes as 64 hex digits, as
// standard base64, or raw (surrounding white space ignored for the text
// forms). `openssl rand -hex 32 > FILE` makes one.
func LoadKeyFile(path string) (*Box, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read secret key: %w", err)
	}
	return New(parseKey(b), path)
}

func parseKey(b []byte) []byte {
	if len(b) == KeySize {
		return b
	}
	text := string(bytes.TrimSpace(b))
	if k, err := hex.DecodeString(text); err == nil {
		return k
	}
	if k, err := base64.StdEncoding.DecodeString(text); err == nil {
		return k
	}
	return b
}

// LoadOrCreateKeyFile reads the key at path, creating it (0600, random,
// hex) when it does not exist yet.
func LoadOrCreateKeyFile(path string) (*Box, error) {
	box, err := LoadKeyFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return box, err
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("create secret key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create secret key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadKeyFile(path) // another process made it first
	}
	if err != nil {
		return nil, fmt.Errorf("create secret key: %w", err)
	}
	_, werr := f.WriteString(hex.EncodeToString(key) + "\n")
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return nil, fmt.Errorf("create secret key %s: %w", path, err)
	}
	return New(key, path)
}

// ID is the key's id as sealed values carry it.
func (b *Box) ID() string { return b.id }

// Seal returns plaintext sealed as text. context binds the value to where
// it is kept (a record's key and field): Open with another context fails.
func (b *Box) Seal(plaintext []byte, context string) (string, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	sealed := b.aead.Seal(nonce, nonce, plaintext, []byte(context))
	return prefix + b.id + ":" + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// IsSealed reports whether s is a sealed value (of any key).
func IsSealed(s string) bool { return strings.HasPrefix(s, prefix) }

// Open returns the plaintext of a value Seal made with the same context.
// A value of another key answers *WrongKeyError.
func (b *Box) Open(sealed, context string) ([]byte, error) {
	rest, ok := strings.CutPrefix(sealed, prefix)
	id, data, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 {
		return nil, errors.New("open secret: not a sealed value")
	}
	if id != b.id {
		return nil, &WrongKeyError{SealedWith: id, Have: b.id, Path: b.path}
	}
	raw, err := base64.RawURLEncoding.DecodeString(data)
	if err != nil || len(raw) < b.aead.NonceSize() {
		return nil, errors.New("open secret: malformed sealed value")
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(context))
	if err != nil {
		return nil, fmt.Errorf("open secret (key %s): the value was altered or belongs elsewhere: %w", b.id, err)
	}
	return plain, nil
}
