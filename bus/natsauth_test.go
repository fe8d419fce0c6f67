package bus_test

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/wispio/wisp/bus"
	"github.com/wispio/wisp/bus/bustest"
	"github.com/wispio/wisp/internal/testenv"
)

// TestNATSAuth: against a nats-server that requires credentials, the bus
// connects (and runs JetStream) with a user and password in the URL or in
// --bus-credentials-file, or with an nkey seed there; wrong or missing
// credentials fail with an error naming where they came from; no password
// or seed ever shows in an error or a log line.
func TestNATSAuth(t *testing.T) {
	const password = "Pw-4u7h-s3cr3t"
	user, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := user.Seed()
	public, _ := user.PublicKey()
	other, _ := nkeys.CreateUser()
	otherSeed, _ := other.Seed()
	url := testenv.NATSServer(t, fmt.Sprintf(`authorization { users = [ {user: wisp, password: %q}, {nkey: %q} ] }`, password, public))
	host := strings.TrimPrefix(url, "nats://")
	dir := t.TempDir()
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	secrets := []string{password, "wrong-" + password, string(seed), string(otherSeed)}
	tests := []struct {
		name, url, file string
		wantErr         string // "" connects
	}{
		{"password in the URL", "nats://wisp:" + password + "@" + host, "", ""},
		{"password file", url, file("userpass", "wisp:"+password+"\n"), ""},
		{"nkey seed file", url, file("seed.nk", string(seed)+"\n"), ""},
		{"wrong password in the URL", "nats://wisp:wrong-" + password + "@" + host, "", "refused the credentials in --bus"},
		{"wrong password file", url, file("wrong", "wisp:wrong-"+password), "refused the credentials of --bus-credentials-file"},
		{"unknown nkey", url, file("other.nk", string(otherSeed)), "refused the credentials of --bus-credentials-file"},
		{"no credentials", url, "", "requires credentials: give them in --bus"},
		{"both", "nats://wisp:" + password + "@" + host, file("both", "wisp:"+password), "--bus carries credentials and --bus-credentials-file is set"},
		{"not credentials", url, file("junk", "just a password"), "--bus-credentials-file " + filepath.Join(dir, "junk") + ": want one line USER:PASSWORD"},
		{"missing file", url, filepath.Join(dir, "absent"), "--bus-credentials-file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkConnect(t, tt.url, tt.file, tt.wantErr, secrets) })
	}
}

// checkConnect connects a NATS bus to url with the credentials file (if
// any): with wantErr "" it must connect and carry a queue message on a
// connection of its own; otherwise it must fail saying wantErr (a refusal
// being nats.ErrAuthorization). No secret may show in the error or the
// logs.
func checkConnect(t *testing.T, url, file, wantErr string, secrets []string) {
	t.Helper()
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b, err := bus.ConnectNATS(t.Context(), url, bus.NATSOptions{Name: t.Name(), Prefix: uniquePrefix(), CredentialsFile: file}, log)
	if wantErr == "" {
		if err != nil {
			t.Fatalf("ConnectNATS: %v", err)
		}
		// A queue subscribes on a connection of its own: it
		// authenticates the same way.
		topic := bus.InvokerTopic("auth")
		sub, err := b.Queue(t.Context(), topic, "auth", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		ch, err := sub.Subscribe(t.Context(), topic)
		if err != nil {
			t.Fatal(err)
		}
		bustest.Publish(t, b, topic, "1")
		bustest.Receive(t, ch, 1, true)
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
	} else {
		if err == nil {
			_ = b.Close()
			t.Fatalf("ConnectNATS connected, want an error %q", wantErr)
		}
		if !strings.Contains(err.Error(), wantErr) {
			t.Errorf("error %q, want one saying %q", err, wantErr)
		}
		if testing.Verbose() {
			t.Log(err)
		}
		if strings.Contains(wantErr, "refused") && !errors.Is(err, nats.ErrAuthorization) {
			t.Errorf("error %q is not nats.ErrAuthorization", err)
		}
	}
	for _, s := range secrets {
		if err != nil && strings.Contains(err.Error(), s) {
			t.Errorf("error %q shows a secret", err)
		}
		if strings.Contains(logs.String(), s) {
			t.Errorf("logs show a secret: %s", logs.String())
		}
	}
}
