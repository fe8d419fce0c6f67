package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wispio/wisp/actions/proxy"
)

// spareThreads are the OS threads the proxy starts at once, so that a fork
// bomb filling the container's pids limit cannot starve it of one.
const spareThreads = 16

// newActionProxyCommand is the entry point of runtime containers: the action
// proxy on :8080 (hidden; runtime images run `wisp action-proxy`). When the
// invoker passes a secret in WISP_PROXY_SECRET, /init and /run require it.
func newActionProxyCommand() *cobra.Command {
	var runtime, interpreter, addr, workDir, classPath, goCacheSeed string
	cmd := &cobra.Command{
		Use:    "action-proxy",
		Short:  "Serve the OpenWhisk action-container protocol (inside an action container)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			proxy.ReserveThreads(spareThreads)
			secret, err := proxy.TakeSecret()
			if err != nil {
				return err
			}
			cfg := proxy.Config{
				Runtime: runtime, WorkDir: workDir, Stdout: os.Stdout, Stderr: os.Stderr, Secret: secret,
				KillLeftovers: true, // the proxy is the container's PID 1
				Prestart:      true, // the interpreter starts with the container (a stem cell), not at /init
				Logger:        slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
			}
			switch runtime {
			case proxy.RuntimeNodeJS:
				cfg.NodePath = interpreter
			case proxy.RuntimePython:
				cfg.PythonPath = interpreter
			case proxy.RuntimeNative:
			case proxy.RuntimeJava, proxy.RuntimeGo, proxy.RuntimeRuby, proxy.RuntimePHP:
				cfg.Interpreter, cfg.ClassPath, cfg.GoCacheSeed = interpreter, classPath, goCacheSeed
			default:
				return fmt.Errorf("--runtime: unknown runtime %q (nodejs, python, native, java, go, ruby, php)", runtime)
			}
			srv, err := proxy.New(cfg)
			if err != nil {
				return err
			}
			defer srv.Close()
			ln, err := listen(addr)
			if err != nil {
				return err
			}
			hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
			go func() {
				<-cmd.Context().Done()
				_ = hs.Close()
			}()
			if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("serve the action proxy on %s: %w", addr, err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&runtime, "runtime", "", "runtime: nodejs, python, native, java, go, ruby or php")
	f.StringVar(&classPath, "classpath", "", "java: the class path of the launcher and Gson")
	f.StringVar(&goCacheSeed, "go-cache-seed", "", "go: a read-only build cache to start from")
	f.StringVar(&interpreter, "interpreter", "", "interpreter path (default from PATH)")
	f.StringVar(&addr, "addr", ":8080", "listen address: host:port, or unix:PATH for a unix socket")
	f.StringVar(&workDir, "work-dir", "/tmp/action", "folder for the action's code")
	return cmd
}

// listen opens addr: "unix:PATH" is a unix socket that any local user may
// connect to (the invoker outside the container runs as another user),
// anything else a TCP address.
func listen(addr string) (net.Listener, error) {
	path, ok := strings.CutPrefix(addr, "unix:")
	if !ok {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("listen on %s: %w", addr, err)
		}
		return ln, nil
	}
	_ = os.Remove(path) // a socket left by an earlier run
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		ln.Close()
		return nil, fmt.Errorf("open %s to the invoker: %w", path, err)
	}
	return ln, nil
}
