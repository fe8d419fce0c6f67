package server

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// Bad cluster settings are refused at start, naming the flag.
func TestClusterConfigErrors(t *testing.T) {
	tests := []struct {
		name  string
		tweak func(*Config)
		want  string
	}{
		{"a role without a bus", func(c *Config) { c.Cluster.Roles = Roles{Invoker: true} }, "bus:"},
		{"a role without a shared store", func(c *Config) {
			c.Cluster.Roles, c.Cluster.BusURL = Roles{Controller: true}, "nats://127.0.0.1:1"
		}, "store:"},
		{"silence shorter than a ping", func(c *Config) {
			c.Cluster.BusURL, c.Cluster.InvokerSilence = "nats://127.0.0.1:1", 500*time.Millisecond
		}, "invoker-silence:"},
		{"a feed lease under a second", func(c *Config) {
			c.Cluster.BusURL, c.Cluster.FeedLease = "nats://127.0.0.1:1", 900*time.Millisecond
		}, "feed-lease:"},
		{"no feed lease", func(c *Config) {
			c.Cluster.BusURL, c.Cluster.FeedLease = "nats://127.0.0.1:1", 0
		}, "feed-lease:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Addr, cfg.DataDir, cfg.Invoker = "127.0.0.1:0", t.TempDir(), BackendProcess
			tt.tweak(&cfg)
			srv, err := Start(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
			if err == nil {
				_ = srv.Close(context.Background())
				t.Fatal("started")
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one starting %q", err, tt.want)
			}
		})
	}
}

func TestParseRoles(t *testing.T) {
	tests := []struct {
		in   string
		want Roles
		err  bool
	}{
		{"all", Roles{true, true, true}, false},
		{"controller,feeds", Roles{Controller: true, Feeds: true}, false},
		{"invoker", Roles{Invoker: true}, false},
		{"scheduler", Roles{}, true},
	}
	for _, tt := range tests {
		got, err := ParseRoles(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseRoles(%q) = %+v, %v", tt.in, got, err)
		}
		if err != nil && !strings.Contains(err.Error(), "role:") {
			t.Errorf("error %v does not name the flag", err)
		}
	}
}
