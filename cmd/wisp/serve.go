package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wispio/wisp/egress"
	"github.com/wispio/wisp/invoker"
	"github.com/wispio/wisp/server"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/tracing"
)

func newServeCommand() *cobra.Command {
	cfg := server.DefaultConfig()
	cfg.DataDir = defaultDataDir()
	var logLevel, roles string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Wisp server: all roles in one process, or one role of a cluster (--role, --bus, --store)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(logLevel)
			if err != nil {
				return err
			}
			if cfg.Cluster.Roles, err = server.ParseRoles(roles); err != nil {
				return err
			}
			// The environment is read here, not as the flags' defaults:
			// a default shows in --help and every usage message, and these
			// URLs carry passwords.
			if cfg.StoreURL == "" {
				cfg.StoreURL = os.Getenv("WISP_STORE")
			}
			if cfg.Cluster.BusURL == "" {
				cfg.Cluster.BusURL = os.Getenv("WISP_BUS")
			}
			if cfg.StoreCredentialsFile == "" {
				cfg.StoreCredentialsFile = os.Getenv("WISP_STORE_CREDENTIALS_FILE")
			}
			cfg.StorePassword = os.Getenv("WISP_STORE_PASSWORD")
			if cfg.Cluster.BusCredentialsFile == "" {
				cfg.Cluster.BusCredentialsFile = os.Getenv("WISP_BUS_CREDENTIALS_FILE")
			}
			return serve(cmd.Context(), cfg, log, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Addr, "addr", cfg.Addr, "address to listen on (host:port)")
	f.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data folder (embedded store, container work folders); env WISP_DATA")
	f.StringVar(&cfg.StoreURL, "store", cfg.StoreURL, "shared store instead of the embedded one: a CouchDB URL, couchdb://user:pass@host:5984 or http(s)://...; env WISP_STORE (keeps the password off the command line)")
	f.StringVar(&cfg.StoreCredentialsFile, "store-credentials-file", "", "file holding --store's credentials, one line USER:PASSWORD (no URL encoding), instead of couchdb://USER:PASSWORD@HOST; env WISP_STORE_CREDENTIALS_FILE. Or env WISP_STORE_PASSWORD: the password of the user --store names (couchdb://USER@HOST:5984)")
	f.StringVar(&cfg.Invoker, "invoker", cfg.Invoker, "invoker backend: process, docker (runtime images built locally), or auto (docker when an engine answers; without one, processes only when --addr is loopback, else wisp refuses to start). "+
		"process as root runs each container as its own unprivileged user (no capabilities, no_new_privs, rlimits, working folder outside the data folder; needs util-linux prlimit and setpriv) "+
		"but leaves unisolated: the host network and its loopback services, the shared kernel and /proc, every world-readable host file, CPU and resident memory; "+
		"not as root, actions run as this user and can read the data folder")
	f.BoolVar(&cfg.DockerSockets, "docker-sockets", cfg.DockerSockets, "reach Docker runtime containers on unix sockets under the data folder instead of ports on 127.0.0.1")
	f.StringVar(&cfg.DockerNetwork, "docker-network", "", "Docker network of action containers (default wisp-actions, created with inter-container traffic off)")
	f.IntVar(&cfg.Pool.UserMemoryMB, "user-memory", cfg.Pool.UserMemoryMB, "memory budget for all action containers, in MB")
	f.DurationVar(&cfg.Pool.PauseGrace, "pause-grace", cfg.Pool.PauseGrace, "idle time before a container is paused")
	f.DurationVar(&cfg.Pool.IdleTimeout, "idle-timeout", cfg.Pool.IdleTimeout, "idle time before a container is removed")
	f.Var(stemCellsFlag{&cfg.Pool.StemCells}, "stem-cells", "prewarmed containers: KIND:MEMORY_MB:COUNT or KIND:MEMORY_MB:MIN-MAX, comma separated, or none; recent demand raises a count up to its MAX (default --stem-max)")
	f.IntVar(&cfg.Pool.StemDemand.Max, "stem-max", cfg.Pool.StemDemand.Max, "most stem cells recent demand may keep per kind and memory (its busiest second of --stem-window); 0 keeps the --stem-cells counts fixed")
	f.DurationVar(&cfg.Pool.StemDemand.Window, "stem-window", cfg.Pool.StemDemand.Window, "how long a cold start or stem cell claim counts as demand")
	f.StringVar(&cfg.MetricsAddr, "metrics-addr", cfg.MetricsAddr, "serve GET /metrics (Prometheus; no auth unless --metrics-token-file) on this address of its own (host:port) instead of --addr")
	f.StringVar(&cfg.MetricsTokenFile, "metrics-token-file", cfg.MetricsTokenFile, "file holding a bearer token GET /metrics then requires (Authorization: Bearer <token>; Prometheus: authorization.credentials_file)")
	f.StringVar(&cfg.MQTT, "mqtt", cfg.MQTT, "also run an MQTT broker on this address (host:port, e.g. 127.0.0.1:1883), open to anonymous clients; empty runs none")
	f.StringVar(&cfg.Connectors.PublicURL, "public-url", cfg.Connectors.PublicURL, "Wisp's base URL as GitHub and Slack reach it, for webhook URLs (default http://ADDR)")
	cfg.Connectors.Settings = map[string]string{}
	f.Var(settingFlag{cfg.Connectors.Settings, "github-api-url"}, "github-api-url", "GitHub REST API base (default https://api.github.com/; GitHub Enterprise: https://HOST/api/v3/)")
	f.Var(settingFlag{cfg.Connectors.Settings, "slack-api-url"}, "slack-api-url", "Slack Web API base (default https://slack.com/api/)")
	f.IntVar(&cfg.Throttles.InvocationsPerMinute, "throttle-invocations-per-minute", cfg.Throttles.InvocationsPerMinute, "default limit of action invocations per namespace and minute; 0 is unlimited")
	f.IntVar(&cfg.Throttles.ConcurrentInvocations, "throttle-concurrent", cfg.Throttles.ConcurrentInvocations, "default limit of activations in flight per namespace; 0 is unlimited")
	f.IntVar(&cfg.Throttles.FiresPerMinute, "throttle-fires-per-minute", cfg.Throttles.FiresPerMinute, "default limit of trigger fires per namespace and minute; 0 is unlimited")
	f.StringVar(&roles, "role", "all", "roles of this process: controller, invoker, feeds (comma separated) or all; a role other than all needs --bus and --store")
	f.StringVar(&cfg.Cluster.BusURL, "bus", cfg.Cluster.BusURL, "NATS server with JetStream the roles meet on (nats://HOST:4222); empty is the in-process bus; env WISP_BUS")
	f.StringVar(&cfg.Cluster.BusCredentialsFile, "bus-credentials-file", "", "file holding the credentials of --bus's server (instead of nats://USER:PASSWORD@HOST): one line USER:PASSWORD, an nkey user seed (SU...) or a NATS .creds file; env WISP_BUS_CREDENTIALS_FILE")
	f.StringVar(&cfg.Cluster.BusPrefix, "bus-prefix", cfg.Cluster.BusPrefix, "prefix of the bus's subjects and streams, for several clusters on one NATS server")
	f.StringVar(&cfg.Cluster.ID, "id", cfg.Cluster.ID, "this node's id (an invoker's queue, a controller's completions); stable and distinct per node, default derived from the data folder")
	f.IntVar(&cfg.Cluster.Workers, "invoker-workers", cfg.Cluster.Workers, "activations an invoker takes from the shared bus at once")
	f.DurationVar(&cfg.Cluster.FeedLease, "feed-lease", cfg.Cluster.FeedLease, "how long a feeds node's hold on a feed registration lasts without renewal (renewed every third of it, at least 1s): a dead feeds node's feeds move within about this long")
	f.DurationVar(&cfg.Cluster.InvokerSilence, "invoker-silence", cfg.Cluster.InvokerSilence, "how long controllers wait for an invoker's health ping before taking it out and handing its queue to the others")
	f.DurationVar(&cfg.HTTP.ReadHeaderTimeout, "http-read-header-timeout", cfg.HTTP.ReadHeaderTimeout, "how long a client may take to send a request's headers")
	f.DurationVar(&cfg.HTTP.ReadTimeout, "http-read-timeout", cfg.HTTP.ReadTimeout, "how long a client may take to send a whole request, body included; must exceed the 60s blocking invoke wait")
	f.DurationVar(&cfg.HTTP.WriteTimeout, "http-write-timeout", cfg.HTTP.WriteTimeout, "how long a request may take from its headers to the end of its answer (0 is none); must exceed the 60s blocking invoke wait")
	f.DurationVar(&cfg.HTTP.IdleTimeout, "http-idle-timeout", cfg.HTTP.IdleTimeout, "how long a kept-alive connection may wait for its next request")
	f.IntVar(&cfg.HTTP.MaxHeaderBytes, "http-max-header-bytes", cfg.HTTP.MaxHeaderBytes, "largest request headers accepted, in bytes")
	f.StringVar(&cfg.SecretKeyFile, "secret-key-file", cfg.SecretKeyFile, "key sealing stored secrets (feed keys, credential parameters): 32 bytes, hex (openssl rand -hex 32), base64 or raw; default DATA/secret.key, created 0600 at first start; every feeds node of a cluster needs the same")
	f.Var(egressAllowFlag{&cfg.EgressAllow}, "egress-allow", "CIDR prefixes (comma separated, e.g. 10.20.0.0/16,fd00::/8) that builtin actions and feeds (couchdb, mqtt, slack, github) may reach although the egress policy denies loopback, link-local and private addresses; the store and bus stay denied")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	return cmd
}

func serve(ctx context.Context, cfg server.Config, log *slog.Logger, out io.Writer) error {
	tp, err := tracing.New(ctx, os.Getenv, "wisp")
	if err != nil {
		return err
	}
	defer func() {
		flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tp.Shutdown(flushCtx); err != nil {
			log.Warn("flush traces", "err", err)
		}
	}()
	cfg.Tracer = tp.TracerProvider
	srv, err := server.Start(ctx, cfg, log, func(ctx context.Context, st store.Store) error {
		return ensureGuest(ctx, st, cfg.Addr, out)
	})
	if err != nil {
		return err
	}
	waitErr := srv.Wait(ctx)
	log.Info("shutting down")
	closeCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Close(closeCtx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	return waitErr
}

func defaultDataDir() string {
	if d := os.Getenv("WISP_DATA"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ".wisp"
	}
	return filepath.Join(home, ".wisp")
}

func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}

// egressAllowFlag parses --egress-allow "10.20.0.0/16,fd00::/8".
type egressAllowFlag struct{ prefixes *[]netip.Prefix }

func (f egressAllowFlag) Type() string { return "cidrs" }

func (f egressAllowFlag) String() string {
	parts := make([]string, 0, len(*f.prefixes))
	for _, p := range *f.prefixes {
		parts = append(parts, p.String())
	}
	return strings.Join(parts, ",")
}

func (f egressAllowFlag) Set(v string) error {
	prefixes, err := egress.ParseAllow(v)
	if err != nil {
		return err
	}
	*f.prefixes = append(*f.prefixes, prefixes...)
	return nil
}

// stemCellsFlag parses --stem-cells "nodejs:20:256:2,python:3:256:1".
type stemCellsFlag struct{ cells *[]invoker.StemCell }

func (f stemCellsFlag) Type() string { return "cells" }

func (f stemCellsFlag) String() string {
	parts := make([]string, 0, len(*f.cells))
	for _, c := range *f.cells {
		if c.Max > 0 {
			parts = append(parts, fmt.Sprintf("%s:%d:%d-%d", c.Kind, c.MemoryMB, c.Count, c.Max))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s:%d:%d", c.Kind, c.MemoryMB, c.Count))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ",")
}

func (f stemCellsFlag) Set(v string) error {
	var cells []invoker.StemCell
	if v != "none" && v != "" {
		for _, part := range strings.Split(v, ",") {
			i := strings.LastIndex(part, ":")
			j := strings.LastIndex(part[:max(i, 0)], ":")
			if i < 0 || j <= 0 {
				return fmt.Errorf("%q: want KIND:MEMORY_MB:COUNT (nodejs:20:256:2)", part)
			}
			memory, err := strconv.Atoi(part[j+1 : i])
			if err != nil || memory <= 0 {
				return fmt.Errorf("%q: memory %q is not a positive number of MB", part, part[j+1:i])
			}
			counts, most, ranged := strings.Cut(part[i+1:], "-")
			count, err := strconv.Atoi(counts)
			if err != nil || count < 0 {
				return fmt.Errorf("%q: count %q is not a number", part, counts)
			}
			cell := invoker.StemCell{Kind: part[:j], MemoryMB: memory, Count: count}
			if ranged {
				if cell.Max, err = strconv.Atoi(most); err != nil || cell.Max < count {
					return fmt.Errorf("%q: max %q is not a number at least the count %d", part, most, count)
				}
			}
			cells = append(cells, cell)
		}
	}
	*f.cells = cells
	return nil
}

// settingFlag sets one connector setting (server.ConnectorsConfig.Settings)
// by the flag's name, such as --github-api-url.
type settingFlag struct {
	settings map[string]string
	name     string
}

func (f settingFlag) Type() string   { return "string" }
func (f settingFlag) String() string { return f.settings[f.name] }

func (f settingFlag) Set(v string) error {
	f.settings[f.name] = v
	return nil
}
