package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wispio/wisp/store"
)

// TestStoredFeedSecretsAreSealed: through the whole server, a feed
// registration's authKey and credential parameters are sealed in the store
// under the data folder's key, created 0600 at first start.
func TestStoredFeedSecretsAreSealed(t *testing.T) {
	srv, a := startTriggerServer(t, nil)
	a.must(200, "PUT", "_/triggers/T", map[string]any{"annotations": []map[string]any{{"key": "feed", "value": "/whisk.system/alarms/alarm"}}})
	status, res := a.feedCall("alarms/alarm", "CREATE", "T", map[string]any{"cron": "0 0 1 1 *", "secretNote": "otherpw88"})
	if status != http.StatusOK {
		t.Fatalf("CREATE = %d %v", status, res)
	}
	rec, err := srv.Store().Get(context.Background(), "whisk.system", store.Feeds, "fire/T")
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{a.auth.Key, "otherpw88"} {
		if strings.Contains(string(rec.Doc), secret) {
			t.Errorf("the stored registration holds %q in the clear: %s", secret, rec.Doc)
		}
	}
	fi, err := os.Stat(filepath.Join(srv.cfg.DataDir, "secret.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret.key: %v, %v; want mode 0600", fi, err)
	}
}

func TestSecretKeyFileMustBeReadable(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Invoker, cfg.Addr, cfg.DataDir = BackendProcess, "127.0.0.1:0", t.TempDir()
	cfg.SecretKeyFile = filepath.Join(t.TempDir(), "missing.key")
	_, err := Start(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err == nil || !strings.HasPrefix(err.Error(), "secret-key-file: ") {
		t.Fatalf("Start with a missing key file = %v", err)
	}
}
