package server

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
)

// TestCloseEndsActivationStreams: an open activation stream (a console
// left open) must not hold up the server's shutdown, which waits for
// every request to finish.
func TestCloseEndsActivationStreams(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Invoker = BackendProcess
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	creds := entity.NewCredentials()
	srv, err := Start(t.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), func(ctx context.Context, st store.Store) error {
		return st.CreateSubject(ctx, entity.Subject{Namespace: "watcher", UUID: creds.UUID, KeyHash: entity.HashKey(creds.Key)})
	})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", "http://"+srv.Addr()+"/api/v1/namespaces/_/activations/stream", nil)
	req.SetBasicAuth(creds.UUID, creds.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	if !lines.Scan() || !strings.HasPrefix(lines.Text(), ": stream of watcher") {
		t.Fatalf("stream opened with %q (%d)", lines.Text(), resp.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Close(ctx); err != nil {
		t.Fatalf("close with a stream open: %v", err)
	}
	for lines.Scan() { // the stream has ended: the body reaches its end
	}
}
