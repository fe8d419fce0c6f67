package process

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wispio/wisp/actions/proxy"
	"github.com/wispio/wisp/invoker"
)

// Config configures the backend.
type Config struct {
	// Dir holds one working folder per container.
	Dir string
	// NodePath and PythonPath override the interpreters found on PATH.
	NodePath, PythonPath string
}

// Backend makes process "containers".
type Backend struct {
	cfg  Config
	log  *slog.Logger
	next atomic.Int64

	mu   sync.Mutex // guards live
	live map[string]*container
}

// New returns a backend working under cfg.Dir.
func New(cfg Config, log *slog.Logger) (*Backend, error) {
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create process backend folder: %w", err)
	}
	if cfg.PythonPath == "" {
		cfg.PythonPath = realPython()
	}
	return &Backend{cfg: cfg, log: log, live: map[string]*container{}}, nil
}

// Name is "process".
func (b *Backend) Name() string { return "process" }

// Create starts a proxy for spec's kind on a loopback port.
func (b *Backend) Create(_ context.Context, spec invoker.Spec) (invoker.Container, error) {
	runtime, ok := proxy.RuntimeForKind(spec.Kind)
	if !ok {
		return nil, fmt.Errorf("kind %q cannot run on the process backend", spec.Kind)
	}
	id := "proc-" + strconv.FormatInt(b.next.Add(1), 10)
	logs := invoker.NewLogCollector()
	srv, err := proxy.New(proxy.Config{
		Runtime:    runtime,
		WorkDir:    filepath.Join(b.cfg.Dir, id),
		Stdout:     logs.Stdout(),
		Stderr:     logs.Stderr(),
		NodePath:   b.cfg.NodePath,
		PythonPath: b.cfg.PythonPath,
		Logger:     b.log.With("container", id),
	})
	if err != nil {
		return nil, fmt.Errorf("start proxy %s: %w", id, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = srv.Close()
		return nil, fmt.Errorf("listen for proxy %s: %w", id, err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	c := &container{id: id, url: "http://" + ln.Addr().String(), proxy: srv, http: hs, logs: logs, backend: b}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			b.log.Warn("proxy server stopped", "container", id, "err", err)
		}
	}()
	b.mu.Lock()
	b.live[id] = c
	b.mu.Unlock()
	return c, nil
}

// Close destroys every container.
func (b *Backend) Close(ctx context.Context) error {
	b.mu.Lock()
	all := make([]*container, 0, len(b.live))
	for _, c := range b.live {
		all = append(all, c)
	}
	b.mu.Unlock()
	var errs []error
	for _, c := range all {
		errs = append(errs, c.Destroy(ctx))
	}
	return errors.Join(errs...)
}

type container struct {
	id      string
	url     string
	proxy   *proxy.Server
	http    *http.Server
	logs    *invoker.LogCollector
	backend *Backend
	once    sync.Once
}

func (c *container) ID() string                   { return c.id }
func (c *container) URL() string                  { return c.url }
func (c *container) Logs() *invoker.LogCollector  { return c.logs }
func (c *container) Pause(context.Context) error  { return c.signal(syscall.SIGSTOP) }
func (c *container) Resume(context.Context) error { return c.signal(syscall.SIGCONT) }

// Alive reports false once the action's launcher has exited.
func (c *container) Alive() bool {
	select {
	case <-c.proxy.Exited():
		return false
	default:
		return true
	}
}

// signal sends sig to the launcher's process group; before init there is
// no launcher and nothing to do.
func (c *container) signal(sig syscall.Signal) error {
	pid := c.proxy.Pid()
	if pid <= 0 {
		return nil
	}
	if err := syscall.Kill(-pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal %v to %s: %w", sig, c.id, err)
	}
	return nil
}

func (c *container) Destroy(context.Context) error {
	var err error
	c.once.Do(func() {
		c.backend.mu.Lock()
		delete(c.backend.live, c.id)
		c.backend.mu.Unlock()
		_ = c.http.Close()
		err = c.proxy.Close()
	})
	if err != nil {
		return fmt.Errorf("destroy %s: %w", c.id, err)
	}
	return nil
}

// realPython finds the interpreter behind "python3": version-manager shims
// (pyenv) cost most of a second per start, which every cold start would pay.
// It returns "" (use PATH) when python3 is absent.
func realPython() string {
	out, err := exec.Command("python3", "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
