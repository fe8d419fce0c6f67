package server

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wispio/wisp/throttle"
)

func TestLoopbackAddr(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:3233", true},
		{"127.9.9.9:0", true},
		{"localhost:3233", true},
		{"[::1]:3233", true},
		{":3233", false},
		{"0.0.0.0:3233", false},
		{"[::]:3233", false},
		{"10.0.0.5:3233", false},
		{"wisp.example.com:3233", false},
		{"127.0.0.1", false}, // no port: not an address we can trust
	}
	for _, tt := range tests {
		if got := LoopbackAddr(tt.addr); got != tt.want {
			t.Errorf("LoopbackAddr(%q) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}

// TestAutoInvokerFailsClosedWithoutDocker: with no Docker engine (DOCKER_HOST
// names a socket that does not exist), --invoker auto falls back to local
// processes only on a loopback address and refuses to start on any other,
// naming --invoker process as the explicit opt-in.
func TestAutoInvokerFailsClosedWithoutDocker(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "no-docker.sock"))
	tests := []struct {
		addr, invoker string
		refused       bool
	}{
		{"127.0.0.1:0", BackendAuto, false},
		{"localhost:0", BackendAuto, false},
		{"0.0.0.0:0", BackendAuto, true},
		{":0", BackendAuto, true},
		{"0.0.0.0:0", BackendProcess, false}, // the explicit opt-in
	}
	for _, tt := range tests {
		t.Run(tt.invoker+" "+tt.addr, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Invoker, cfg.Addr, cfg.DataDir = tt.invoker, tt.addr, t.TempDir()
			cfg.Throttles = throttle.Limits{}
			srv, err := Start(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
			if err == nil {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if cerr := srv.Close(ctx); cerr != nil {
					t.Errorf("close: %v", cerr)
				}
			}
			switch {
			case tt.refused && err == nil:
				t.Fatal("started without Docker on a non-loopback address")
			case tt.refused && !strings.Contains(err.Error(), "--invoker process"):
				t.Fatalf("error %q does not name --invoker process", err)
			case !tt.refused && err != nil:
				t.Fatalf("refused: %v", err)
			}
		})
	}
}
