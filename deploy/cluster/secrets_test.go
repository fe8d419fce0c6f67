package cluster_test

import (
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wispio/wisp/bus"
	"github.com/wispio/wisp/internal/testenv"
)

// secretFiles are the files secrets.sh writes into secrets/ and
// k8s/secrets/.
var secretFiles = []string{"couchdb.env", "store-credentials", "nats-auth.conf", "bus-credentials"}

// plaintextCredential matches what must not be written in a manifest: a
// URL with a password, or a password-like key given a literal value (not a
// file, a secret reference or a variable).
var plaintextCredential = regexp.MustCompile(`(?i)[a-z]+://[^/\s"'@]+:[^/\s"'@]*@|(password|passwd|token)["']?\s*[:=]\s*["']?[^\s"'$#{?]`)

// checkNoPlaintextCredentials fails for each line of a manifest, outside
// comments, that writes a credential down.
func checkNoPlaintextCredentials(t *testing.T, name, text string) {
	t.Helper()
	for i, line := range strings.Split(text, "\n") {
		if code, _, _ := strings.Cut(line, "#"); plaintextCredential.MatchString(code) {
			t.Errorf("%s:%d: a credential in plain text: %s", name, i+1, strings.TrimSpace(line))
		}
	}
}

func TestPlaintextCredentialPattern(t *testing.T) {
	for line, want := range map[string]bool{
		"WISP_STORE: couchdb://admin:pw@couchdb:5984":                       true,
		"  COUCHDB_PASSWORD: change-me":                                     true,
		`{user: wisp, password: "s3cret"}`:                                  true,
		"WISP_STORE: couchdb://couchdb:5984":                                false,
		"WISP_STORE_CREDENTIALS_FILE: /run/secrets/store":                   false,
		"valueFrom: {secretKeyRef: {name: couchdb, key: COUCHDB_PASSWORD}}": false,
		"COUCHDB_PASSWORD: ${COUCHDB_PASSWORD:?set it}":                     false,
	} {
		if got := plaintextCredential.MatchString(line); got != want {
			t.Errorf("%q: matched %v, want %v", line, got, want)
		}
	}
}

// TestSecretsScript: secrets.sh writes the same random credentials for
// compose and Kubernetes, in a folder of its owner's, consistent between
// each server's side and its clients'; the NATS pair authenticates against
// a real nats-server; a second run refuses to replace them.
func TestSecretsScript(t *testing.T) {
	dir := t.TempDir()
	run := func() error {
		cmd := exec.Command("sh", "secrets.sh", dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Logf("secrets.sh: %s", out)
		}
		return err
	}
	if err := run(); err != nil {
		t.Fatal(err)
	}
	read := func(sub, name string) string {
		b, err := os.ReadFile(filepath.Join(dir, sub, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, sub := range []string{"secrets", filepath.Join("k8s", "secrets")} {
		fi, err := os.Stat(filepath.Join(dir, sub))
		if err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v, mode %v; want a folder of mode 0700", sub, err, fi.Mode().Perm())
		}
		for _, f := range secretFiles {
			if read(sub, f) != read("secrets", f) {
				t.Errorf("%s/%s differs from secrets/%s", sub, f, f)
			}
		}
	}
	env := map[string]string{}
	for line := range strings.Lines(read("secrets", "couchdb.env")) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), "=")
		env[k] = v
	}
	if len(env["COUCHDB_PASSWORD"]) < 32 || read("secrets", "store-credentials") != env["COUCHDB_USER"]+":"+env["COUCHDB_PASSWORD"]+"\n" {
		t.Errorf("couchdb.env %v and store-credentials %q disagree (or the password is short)", env, read("secrets", "store-credentials"))
	}
	busUser, busPassword, _ := strings.Cut(strings.TrimSpace(read("secrets", "bus-credentials")), ":")
	if len(busPassword) < 32 || busPassword == env["COUCHDB_PASSWORD"] || !strings.Contains(read("secrets", "nats-auth.conf"), busPassword) {
		t.Errorf("bus-credentials for %s: password short, shared with CouchDB or not in nats-auth.conf", busUser)
	}

	url := testenv.NATSServer(t, read("secrets", "nats-auth.conf"))
	for _, creds := range []string{"", filepath.Join(dir, "secrets", "bus-credentials")} {
		b, err := bus.ConnectNATS(t.Context(), url, bus.NATSOptions{Name: t.Name(), Prefix: "secrets", CredentialsFile: creds}, slog.New(slog.DiscardHandler))
		if creds == "" {
			if err == nil {
				_ = b.Close()
				t.Errorf("nats-server with nats-auth.conf let a client without credentials in")
			}
			continue
		}
		if err != nil {
			t.Fatalf("connect with bus-credentials to nats-server with nats-auth.conf: %v", err)
		}
		_ = b.Close()
	}

	if err := run(); err == nil {
		t.Errorf("a second secrets.sh replaced the credentials")
	}
}
