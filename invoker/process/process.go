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
	// Dir holds one working folder per container. When Wisp runs as root
	// it must lie outside the data folder and be reachable by the action
	// users (every folder above it searchable by others); empty makes a
	// fresh folder in the system's temporary folder, removed by Close.
	Dir string
	// NodePath and PythonPath override the interpreters found on PATH.
	NodePath, PythonPath string
	// Isolation is how actions run when Wisp runs as root; nil means
	// DefaultIsolation. Without root nothing can be isolated: actions run
	// as Wisp's own user.
	Isolation *Isolation
}

// Backend makes process "containers".
type Backend struct {
	cfg  Config
	log  *slog.Logger
	next atomic.Int64
	// sandbox is set when Wisp runs as root: every container runs as
	// its own user, from the block at uidBase that uidLock holds. ownDir
	// says Close removes cfg.Dir.
	sandbox *sandbox
	uidLock *os.File
	uidBase uint32
	ownDir  bool
	// sockets is the root-only folder of the proxies' unix sockets when
	// isolated, so that no action can reach another container's proxy.
	sockets string
	// unusable holds the runtimes that cannot run isolated, and why.
	unusable map[string]error

	mu   sync.Mutex // guards live and uids
	live map[string]*container
	uids map[uint32]bool // the users of live isolated containers
}

// New returns a backend working under cfg.Dir. When Wisp runs as root it
// isolates every container (see Isolation) and fails when it cannot.
func New(cfg Config, log *slog.Logger) (*Backend, error) {
	b := &Backend{cfg: cfg, log: log, live: map[string]*container{}, uids: map[uint32]bool{}, unusable: map[string]error{}}
	if os.Geteuid() == 0 {
		iso := DefaultIsolation()
		if cfg.Isolation != nil {
			iso = *cfg.Isolation
		}
		sb, err := newSandbox(iso)
		if err != nil {
			return nil, err
		}
		if b.uidLock, b.uidBase, err = sb.claimBlock(); err != nil {
			return nil, err
		}
		b.sandbox = sb
	}
	if b.cfg.Dir == "" {
		dir, err := os.MkdirTemp("", "wisp-actions-")
		if err != nil {
			return nil, fmt.Errorf("create process backend folder: %w", err)
		}
		b.cfg.Dir, b.ownDir = dir, true
	}
	if err := os.MkdirAll(b.cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create process backend folder: %w", err)
	}
	if b.sandbox != nil {
		if err := b.prepareIsolated(); err != nil {
			return nil, err
		}
		dir, err := os.MkdirTemp("", "wisp-proxies-")
		if err != nil {
			return nil, fmt.Errorf("create the proxies' socket folder: %w", err)
		}
		b.sockets = dir
	} else if b.cfg.PythonPath == "" {
		b.cfg.PythonPath = realPython()
	}
	return b, nil
}

// prepareIsolated lets the action users traverse (not list) the backend
// folder and picks interpreters they can run.
func (b *Backend) prepareIsolated() error {
	if err := os.Chmod(b.cfg.Dir, 0o711); err != nil {
		return fmt.Errorf("process backend folder: %w", err)
	}
	if !searchable(b.cfg.Dir) {
		return fmt.Errorf("process backend folder %s: the action users cannot reach it (a folder above it is not searchable by others)", b.cfg.Dir)
	}
	pick := func(runtime string, path *string, candidates ...string) {
		if *path != "" {
			candidates = []string{*path}
		}
		if *path = isolatedInterpreter(candidates...); *path == "" {
			b.unusable[runtime] = fmt.Errorf("%w for %s (tried %s)", errNoInterpreter, runtime, strings.Join(candidates, ", "))
			b.log.Warn("actions of this runtime cannot run on the process backend as root", "runtime", runtime, "err", b.unusable[runtime])
		}
	}
	pick(proxy.RuntimeNodeJS, &b.cfg.NodePath, "node", "/usr/bin/node", "/usr/local/bin/node")
	if b.cfg.NodePath != "" {
		if b.sandbox.nodeNoTrap = probeNode(b.cfg.NodePath); !b.sandbox.nodeNoTrap {
			b.log.Warn("this node lacks "+nodeNoTrapFlag+": Node.js actions get no address-space limit", "node", b.cfg.NodePath)
		}
	}
	pick(proxy.RuntimePython, &b.cfg.PythonPath, realPython(), "/usr/bin/python3", "/usr/local/bin/python3", "python3")
	return nil
}

// Name is "process".
func (b *Backend) Name() string { return "process" }

// Create starts a proxy for spec's kind on a loopback port.
func (b *Backend) Create(_ context.Context, spec invoker.Spec) (invoker.Container, error) {
	runtime, ok := proxy.RuntimeForKind(spec.Kind)
	if !ok {
		return nil, fmt.Errorf("kind %q cannot run on the process backend", spec.Kind)
	}
	if err := b.unusable[runtime]; err != nil {
		return nil, err
	}
	n := b.next.Add(1)
	id := "proc-" + strconv.FormatInt(n, 10)
	logs := invoker.NewLogCollector()
	c := &container{id: id, logs: logs, backend: b, workDir: filepath.Join(b.cfg.Dir, id)}
	pcfg := proxy.Config{
		Runtime:    runtime,
		WorkDir:    c.workDir,
		Stdout:     logs.Stdout(),
		Stderr:     logs.Stderr(),
		NodePath:   b.cfg.NodePath,
		PythonPath: b.cfg.PythonPath,
		Logger:     b.log.With("container", id),
		// The interpreter starts now, not at /init. Isolated launchers
		// start at /init, once the code is written and handed to their
		// user (sandbox.wrap).
		Prestart: b.sandbox == nil,
	}
	if b.sandbox != nil {
		uid, err := b.takeUID(n)
		if err != nil {
			return nil, fmt.Errorf("start proxy %s: %w", id, err)
		}
		if err := c.isolate(&pcfg, b.sandbox, uid, spec.MemoryMB); err != nil {
			c.discard()
			return nil, fmt.Errorf("start proxy %s: %w", id, err)
		}
	}
	srv, err := proxy.New(pcfg)
	if err != nil {
		c.discard()
		return nil, fmt.Errorf("start proxy %s: %w", id, err)
	}
	ln, url, err := b.listen(id)
	if err != nil {
		_ = srv.Close()
		c.discard()
		return nil, fmt.Errorf("listen for proxy %s: %w", id, err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	c.url, c.proxy, c.http = url, srv, hs
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

// takeUID reserves the user of container n: the next in the block that
// no live container runs as.
func (b *Backend) takeUID(n int64) (uint32, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range int64(UIDBlock) {
		uid := b.uidBase + uint32((n+i)%UIDBlock)
		if !b.uids[uid] {
			b.uids[uid] = true
			return uid, nil
		}
	}
	return 0, fmt.Errorf("all %d user ids of the block are in use", UIDBlock)
}

// releaseUID frees a user once nothing runs as it.
func (b *Backend) releaseUID(uid uint32) {
	b.mu.Lock()
	delete(b.uids, uid)
	b.mu.Unlock()
}

// listen opens the listener of container id's proxy: a unix socket in the
// root-only socket folder when isolated, else a loopback port.
func (b *Backend) listen(id string) (net.Listener, string, error) {
	if b.sockets == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, "", err
		}
		return ln, "http://" + ln.Addr().String(), nil
	}
	path := filepath.Join(b.sockets, id+".sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, "", err
	}
	return ln, invoker.UnixURL(path), nil
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
	if b.ownDir {
		if err := os.RemoveAll(b.cfg.Dir); err != nil {
			errs = append(errs, fmt.Errorf("remove process backend folder: %w", err))
		}
	}
	if b.sockets != "" {
		if err := os.RemoveAll(b.sockets); err != nil {
			errs = append(errs, fmt.Errorf("remove the proxies' socket folder: %w", err))
		}
	}
	if b.uidLock != nil {
		errs = append(errs, b.uidLock.Close())
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
	workDir string
	// uid is the user the container runs as; 0 when not isolated.
	uid uint32
}

// isolate prepares an isolated container: its working folder belongs to
// uid (nobody else may enter it) and every process the proxy starts runs
// as uid under the sandbox's limits.
func (c *container) isolate(pcfg *proxy.Config, sb *sandbox, uid uint32, memoryMB int) error {
	if memoryMB <= 0 {
		memoryMB = 256
	}
	c.uid = uid
	if err := os.Mkdir(c.workDir, 0o700); err != nil {
		return fmt.Errorf("create working folder: %w", err)
	}
	if err := os.Chown(c.workDir, int(uid), int(uid)); err != nil {
		return fmt.Errorf("hand the working folder to user %d: %w", uid, err)
	}
	runtime := pcfg.Runtime
	pcfg.Command = func(cmd *exec.Cmd) error { return sb.wrap(cmd, uid, memoryMB, runtime) }
	return nil
}

// discard removes an isolated container's working folder (the proxy
// removes only what it wrote in a folder it did not create) and frees its
// user; nothing may run as it any more.
func (c *container) discard() {
	if c.uid == 0 {
		return
	}
	if err := os.RemoveAll(c.workDir); err != nil {
		c.backend.log.Warn("remove working folder", "container", c.id, "err", err)
	}
	c.backend.releaseUID(c.uid)
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
		if c.uid != 0 {
			killUser(c.uid) // what left the process group
			c.discard()
		}
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
