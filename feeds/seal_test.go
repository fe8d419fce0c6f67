package feeds

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/internal/secrets"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/store/bolt"
)

// sealedWorld is an embedded store on a file, a subject whose key a feed
// keeps, and a key file.
type sealedWorld struct {
	dbPath, keyPath string
	creds           entity.Credentials
}

func newSealedWorld(t *testing.T) *sealedWorld {
	dir := t.TempDir()
	return &sealedWorld{dbPath: filepath.Join(dir, "wisp.db"), keyPath: filepath.Join(dir, "secret.key"), creds: entity.NewCredentials()}
}

// open opens the world's store and a harness over it whose Manager seals
// with box (nil: in the clear).
func (w *sealedWorld) open(t *testing.T, box *secrets.Box) *harness {
	t.Helper()
	st, err := bolt.Open(w.dbPath, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.SubjectByUUID(context.Background(), w.creds.UUID); errors.Is(err, store.ErrNotFound) {
		if err := st.CreateSubject(context.Background(), entity.Subject{Namespace: "ns", UUID: w.creds.UUID, KeyHash: entity.HashKey(w.creds.Key)}); err != nil {
			t.Fatal(err)
		}
	}
	h := newHarness(t, st)
	m, err := New(Config{RetryMin: time.Millisecond, RetryMax: 5 * time.Millisecond, Secrets: box}, st, slog.New(slog.NewTextHandler(io.Discard, nil)), h.provider)
	if err != nil {
		t.Fatal(err)
	}
	h.m, h.handler = m, m.Builtins()[HandlerName("fake", "events")]
	return h
}

// close stops the harness's Manager and store, so that the file can be
// read whole and opened again.
func (w *sealedWorld) close(t *testing.T, h *harness) {
	t.Helper()
	if err := h.m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := h.store.Close(); err != nil {
		t.Fatal(err)
	}
}

var feedSecrets = []string{"hunter2", "urlpw99"}

func (w *sealedWorld) createFeed(t *testing.T, h *harness) {
	t.Helper()
	h.trigger("ns", "T")
	h.mustCall("ns", map[string]any{"lifecycleEvent": "CREATE", "triggerName": "/ns/T", "authKey": w.creds.String(),
		"topic": "t", "password": feedSecrets[0], "url": "mqtt://dev:" + feedSecrets[1] + "@broker:1883"})
	h.nextFeed()
}

// storeHolds reports which of secrets the store file holds in any form.
func (w *sealedWorld) storeHolds(t *testing.T, values ...string) []string {
	t.Helper()
	raw, err := os.ReadFile(w.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, v := range values {
		if bytes.Contains(raw, []byte(v)) {
			found = append(found, v)
		}
	}
	return found
}

// checkRestored starts a Manager and checks the restarted feed has its
// secrets in the clear.
func (w *sealedWorld) checkRestored(t *testing.T, h *harness) {
	t.Helper()
	h.start()
	reg := h.nextFeed().reg
	if string(reg.Params["password"]) != `"hunter2"` || string(reg.Params["url"]) != `"mqtt://dev:urlpw99@broker:1883"` {
		t.Fatalf("restarted feed params = %s %s", reg.Params["password"], reg.Params["url"])
	}
	if e := h.m.lookup("ns/T"); e == nil {
		t.Fatal("the restarted feed is not running")
	}
}

// TestFeedSecretsAreSealedInTheStore: the caller's uuid:key and the
// credential parameters never reach the store file in the clear; a restart
// with the same key reads them back, another key is refused clearly.
func TestFeedSecretsAreSealedInTheStore(t *testing.T) {
	w := newSealedWorld(t)
	box, err := secrets.LoadOrCreateKeyFile(w.keyPath)
	if err != nil {
		t.Fatal(err)
	}
	h := w.open(t, box)
	h.start()
	w.createFeed(t, h)
	w.close(t, h)
	if found := w.storeHolds(t, append(feedSecrets, w.creds.Key)...); len(found) > 0 {
		t.Fatalf("the store file holds %q in the clear", found)
	}

	again, err := secrets.LoadOrCreateKeyFile(w.keyPath) // the same file, read at the next start
	if err != nil {
		t.Fatal(err)
	}
	h = w.open(t, again)
	w.checkRestored(t, h)
	w.close(t, h)

	other, _ := secrets.New(bytes.Repeat([]byte{1}, secrets.KeySize), "/etc/wisp/other.key")
	h = w.open(t, other)
	err = h.m.Start(context.Background(), h.firer, h.triggers)
	var wrong *secrets.WrongKeyError
	if !errors.As(err, &wrong) || !strings.Contains(err.Error(), "ns/T") || !strings.Contains(err.Error(), "--secret-key-file") {
		t.Fatalf("start with another key = %v, want a WrongKeyError naming the registration and --secret-key-file", err)
	}
}

// TestPlaintextFeedRecordsAreSealedAtStart: a registration written before
// encryption is read as it is and written again sealed.
func TestPlaintextFeedRecordsAreSealedAtStart(t *testing.T) {
	w := newSealedWorld(t)
	h := w.open(t, nil)
	h.start()
	w.createFeed(t, h)
	w.close(t, h)
	if found := w.storeHolds(t, feedSecrets[0]); len(found) != 1 {
		t.Fatalf("setup: a store without a key holds %q, want the secret in the clear", found)
	}

	box, err := secrets.LoadOrCreateKeyFile(w.keyPath)
	if err != nil {
		t.Fatal(err)
	}
	h = w.open(t, box)
	w.checkRestored(t, h)
	reg, _, err := store.GetDoc[record](context.Background(), h.store, SystemNamespace, store.Feeds, "ns/T")
	if err != nil {
		t.Fatal(err)
	}
	if !isSealedJSON(reg.Params["password"]) || !isSealedJSON(reg.Params["url"]) || isSealedJSON(reg.Params["topic"]) {
		t.Fatalf("stored record after the start: params %v", reg.Params)
	}
}
