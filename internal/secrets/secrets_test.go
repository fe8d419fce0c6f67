package secrets

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeyFileCreatedOnceWith0600(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "secret.key")
	a, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v; want 0600", fi.Mode(), err)
	}
	b, err := LoadOrCreateKeyFile(path)
	if err != nil || a.ID() != b.ID() {
		t.Fatalf("second start: key %v (%v), want the first one %s", b, err, a.ID())
	}
	sealed, _ := a.Seal([]byte("uuid:key"), "ctx")
	if got, err := b.Open(sealed, "ctx"); err != nil || string(got) != "uuid:key" {
		t.Fatalf("open with the reloaded key = %q, %v", got, err)
	}
}

func TestSealOpen(t *testing.T) {
	box, err := New(bytes.Repeat([]byte{7}, KeySize), "k")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := New(bytes.Repeat([]byte{8}, KeySize), "other.key")
	sealed, err := box.Seal([]byte("s3cret"), "feeds/ns/T/authKey")
	if err != nil || !IsSealed(sealed) || strings.Contains(sealed, "s3cret") {
		t.Fatalf("Seal = %q, %v", sealed, err)
	}
	if got, err := box.Open(sealed, "feeds/ns/T/authKey"); err != nil || string(got) != "s3cret" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := box.Open(sealed, "feeds/ns/U/authKey"); err == nil {
		t.Fatal("opened under another context")
	}
	var wrong *WrongKeyError
	if _, err := other.Open(sealed, "feeds/ns/T/authKey"); !errors.As(err, &wrong) || wrong.SealedWith != box.ID() || !strings.Contains(err.Error(), "--secret-key-file") || !strings.Contains(err.Error(), "other.key") {
		t.Fatalf("Open with another key = %v", err)
	}
	tampered := sealed[:len(sealed)-2] + "AA"
	if _, err := box.Open(tampered, "feeds/ns/T/authKey"); err == nil {
		t.Fatal("opened a tampered value")
	}
}

func TestLoadKeyFileForms(t *testing.T) {
	dir := t.TempDir()
	key := bytes.Repeat([]byte{0xab}, KeySize)
	want, _ := New(key, "")
	for name, content := range map[string]string{
		"hex":    strings.Repeat("ab", KeySize) + "\n",
		"base64": "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n",
		"raw":    string(key),
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		box, err := LoadKeyFile(path)
		if err != nil || box.ID() != want.ID() {
			t.Errorf("%s key file: %v, %v", name, box, err)
		}
	}
	short := filepath.Join(dir, "short")
	_ = os.WriteFile(short, []byte("abcd"), 0o600)
	if _, err := LoadKeyFile(short); err == nil || !strings.Contains(err.Error(), "want 32") {
		t.Errorf("short key file: %v", err)
	}
}
