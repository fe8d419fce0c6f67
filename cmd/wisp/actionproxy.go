package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/wispio/wisp/actions/proxy"
)

// newActionProxyCommand is the entry point of runtime containers: the action
// proxy on :8080 (hidden; runtime images run `wisp action-proxy`).
func newActionProxyCommand() *cobra.Command {
	var runtime, interpreter, addr, workDir string
	cmd := &cobra.Command{
		Use:    "action-proxy",
		Short:  "Serve the OpenWhisk action-container protocol (inside an action container)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := proxy.Config{
				Runtime: runtime, WorkDir: workDir, Stdout: os.Stdout, Stderr: os.Stderr,
				Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
			}
			switch runtime {
			case proxy.RuntimeNodeJS:
				cfg.NodePath = interpreter
			case proxy.RuntimePython:
				cfg.PythonPath = interpreter
			case proxy.RuntimeNative:
			default:
				return fmt.Errorf("--runtime: unknown runtime %q (nodejs, python, native)", runtime)
			}
			srv, err := proxy.New(cfg)
			if err != nil {
				return err
			}
			defer srv.Close()
			hs := &http.Server{Addr: addr, Handler: srv, ReadHeaderTimeout: 10 * time.Second}
			go func() {
				<-cmd.Context().Done()
				_ = hs.Close()
			}()
			if err := hs.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("serve the action proxy on %s: %w", addr, err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&runtime, "runtime", "", "runtime: nodejs, python or native")
	f.StringVar(&interpreter, "interpreter", "", "interpreter path (default from PATH)")
	f.StringVar(&addr, "addr", ":8080", "listen address")
	f.StringVar(&workDir, "work-dir", "/tmp/action", "folder for the action's code")
	return cmd
}
