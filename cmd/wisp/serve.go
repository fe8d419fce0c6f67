package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/wispio/wisp/server"
	"github.com/wispio/wisp/store"
)

func newServeCommand() *cobra.Command {
	cfg := server.DefaultConfig()
	cfg.DataDir = defaultDataDir()
	var logLevel string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Wisp server: API, controller and invoker in one process",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(logLevel)
			if err != nil {
				return err
			}
			return serve(cmd.Context(), cfg, log, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Addr, "addr", cfg.Addr, "address to listen on (host:port)")
	f.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data folder (embedded store, container work folders); env WISP_DATA")
	f.StringVar(&cfg.Invoker, "invoker", cfg.Invoker, "invoker backend: process, docker (runtime images built locally), or auto (docker when an engine answers)")
	f.IntVar(&cfg.Pool.UserMemoryMB, "user-memory", cfg.Pool.UserMemoryMB, "memory budget for all action containers, in MB")
	f.DurationVar(&cfg.Pool.PauseGrace, "pause-grace", cfg.Pool.PauseGrace, "idle time before a container is paused")
	f.DurationVar(&cfg.Pool.IdleTimeout, "idle-timeout", cfg.Pool.IdleTimeout, "idle time before a container is removed")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	return cmd
}

func serve(ctx context.Context, cfg server.Config, log *slog.Logger, out io.Writer) error {
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
