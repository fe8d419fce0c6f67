package proxy

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Sentinel is the line the launcher writes to stdout and stderr after each
// activation (and after a failed init); log collectors read up to it.
const Sentinel = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX"

// Runtimes a Server can run.
const (
	RuntimeNodeJS = "nodejs"
	RuntimePython = "python"
	// RuntimeNative runs the action's own executable, which speaks
	// OpenWhisk's ActionLoop protocol (see native.go).
	RuntimeNative = "native"
	// RuntimeJava runs a jar's public static JsonObject main(JsonObject)
	// in a JVM started before /init (launcher.java, prestart.go).
	RuntimeJava = "java"
	// RuntimeGo compiles Go sources at /init with the Go toolchain and runs
	// the binary as a native one (golang.go); it runs binaries as they are.
	RuntimeGo   = "go"
	RuntimeRuby = "ruby"
	RuntimePHP  = "php"
)

// Defaults for the Config limits.
const (
	DefaultMaxUnzipBytes = 512 << 20
	DefaultMaxUnzipFiles = 100_000
	DefaultMaxBodyBytes  = 64 << 20
)

// RuntimeForKind maps an exec kind ("nodejs:20", "python:3", "nodejs",
// "native", "ruby:3", "php:8") to the runtime that runs it on the process
// backend; it reports false for kinds it cannot run there, java and go among
// them (they need what their image brings: the compiled Java launcher, the
// Go build cache).
func RuntimeForKind(kind string) (string, bool) {
	family, _, _ := strings.Cut(kind, ":")
	switch family {
	case RuntimeNodeJS, RuntimePython, RuntimeNative, RuntimeRuby, RuntimePHP:
		return family, true
	}
	return "", false
}

// Config configures one Server, that is one action container.
type Config struct {
	// Runtime is RuntimeNodeJS, RuntimePython or RuntimeNative.
	Runtime string
	// WorkDir is a private directory for the action's code and the launcher;
	// it is created if missing. Close removes what the Server wrote (all of
	// WorkDir if the Server created it).
	WorkDir string
	// Stdout and Stderr receive the launcher's output verbatim, sentinel lines
	// included. Each is called from one goroutine at a time, one line per
	// Write (lines over 64 KiB arrive in pieces). Nil discards.
	Stdout, Stderr io.Writer
	// NodePath and PythonPath name the interpreters; defaults "node" and
	// "python3", looked up in PATH. The native runtime needs neither.
	NodePath, PythonPath string
	// Interpreter names the interpreter of the other runtimes ("java",
	// "go", "ruby", "php" by default, looked up in PATH).
	Interpreter string
	// ClassPath is the Java runtime's class path: the folder of the
	// compiled WispLauncher and Gson's jar.
	ClassPath string
	// GoCacheSeed is a read-only Go build cache (the standard library
	// compiled when the go image was built) the Go runtime's builds start
	// from; "" for none.
	GoCacheSeed string
	// Env is the launcher's base environment; default PATH (the parent's),
	// HOME=WorkDir and LANG=C.UTF-8. The parent's environment is not passed on.
	// For the native runtime, OW_WAIT_FOR_ACK set non-empty here or in the
	// /init env makes the proxy wait for the executable's {"ok":true}.
	Env []string
	// Logger receives the proxy's own diagnostics; nil discards them.
	Logger *slog.Logger
	// MaxUnzipBytes caps the uncompressed size of a zip action
	// (default DefaultMaxUnzipBytes); MaxUnzipFiles caps its entries
	// (default DefaultMaxUnzipFiles).
	MaxUnzipBytes int64
	MaxUnzipFiles int
	// MaxBodyBytes caps /init and /run request bodies (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// Command, when set, adjusts each child process (launcher or native
	// executable) before it starts: the process backend wraps it to run
	// as an unprivileged user with resource limits. It may replace Path
	// and Args, but must exec the original program in the same process;
	// an error fails the start.
	Command func(*exec.Cmd) error
	// KillLeftovers makes the Server kill, after each activation while no
	// other runs, every process the action left behind besides the
	// launcher, and ask for the container to be recycled when that fails
	// or its pids limit was hit (cleanup.go). Only for a proxy that is
	// its container's PID 1: it treats every descendant as the action's.
	KillLeftovers bool
	// Secret, when set, must come in the SecretHeader of every /init and
	// /run; a request without it is refused with 403 and runs nothing. It
	// keeps the container's neighbours from driving it; the invoker sets it
	// at create (see SecretEnv), and it never reaches the action's
	// environment.
	Secret string
	// Prestart starts the Node.js or Python interpreter on its launcher
	// when the Server is made, before any /init: the launcher loads the
	// runtime's own modules and waits for the action's code, so that /init
	// pays for the code alone, not for the interpreter's start (most of a
	// stem cell hit). The action's /init env is then applied by the
	// launcher to its own environment (process.env, os.environ) rather than
	// given at exec. A prestarted launcher that dies before /init is
	// replaced by a fresh one at /init. The native runtime ignores it.
	Prestart bool
}

// SecretHeader carries Config.Secret on /init and /run.
const SecretHeader = "X-Wisp-Secret"

// RecycleHeader is set on a /run answer when the container should serve no
// other activation: the proxy could not clean up after this one.
const RecycleHeader = "X-Wisp-Recycle"

// SecretEnv is the environment variable through which the invoker hands a
// runtime container's proxy its secret; the proxy removes it from its own
// environment at start.
const SecretEnv = "WISP_PROXY_SECRET"

// state is the lifecycle of a Server.
type state int32

const (
	stateNew      state = iota // no /init yet (or only refused ones)
	stateStarting              // /init in progress
	stateReady                 // launcher initialised, accepting /run
	stateFailed                // /init failed; the Server cannot be used again
	stateDead                  // the launcher exited after a successful init
	stateClosed                // Close was called
)

// Server answers the OpenWhisk action-container protocol (POST /init,
// POST /run) for one action, which it runs in a launcher child process (or,
// for the native runtime, as the action's own executable).
// It is safe for concurrent use.
type Server struct {
	cfg     Config
	d       *dialect
	interp  string // absolute interpreter path
	log     *slog.Logger
	created bool // WorkDir was created by New
	// startGrace is how long a native executable that sends no
	// acknowledgement must run to count as started (nativeStartGrace).
	startGrace time.Duration

	mu    sync.Mutex   // guards state changes, l, pre and spare
	state atomic.Int32 // a state; written under mu, read without it on the hot path
	l     *launcher    // set under mu once /init started the launcher
	pre   *launcher    // a launcher started ahead of /init (prestart.go); taken by /init
	spare *launcher    // the prestarted launcher waiting for /init (Prestart); guarded by mu
	// compiled is set once /init compiled Go sources into the executable
	// that GET BinaryPath serves (gobinary.go).
	compiled atomic.Bool

	stdout, stderr *logStream
	bufs           sync.Pool // *[]byte frames for /run

	// runs is held shared by each /run while its activation runs and
	// exclusively by the cleanup after one, which only happens when no
	// other runs (TryLock).
	runs sync.RWMutex
	// pidsMaxEvents is the pids cgroup's count of refused forks at the
	// last cleanup; guarded by runs (held exclusively).
	pidsMaxEvents uint64
	closeOnce     sync.Once
	closeErr      error
}

// New checks cfg, resolves the interpreter and creates the work directory.
// It starts no process unless cfg.Prestart asks for the launcher at once;
// otherwise that happens on POST /init.
func New(cfg Config) (*Server, error) {
	d, ok := dialects[cfg.Runtime]
	if !ok {
		return nil, fmt.Errorf("new proxy: unknown runtime %q", cfg.Runtime)
	}
	if cfg.WorkDir == "" {
		return nil, errors.New("new proxy: WorkDir is required")
	}
	wd, err := filepath.Abs(cfg.WorkDir)
	if err != nil {
		return nil, fmt.Errorf("new proxy: work dir: %w", err)
	}
	cfg.WorkDir = wd
	interp, err := findInterpreter(cfg, d)
	if err != nil {
		return nil, err
	}
	_, statErr := os.Stat(wd)
	if err := os.MkdirAll(wd, 0o700); err != nil {
		return nil, fmt.Errorf("new proxy: create work dir: %w", err)
	}
	setDefaults(&cfg)
	s := &Server{
		cfg:        cfg,
		d:          d,
		interp:     interp,
		log:        cfg.Logger.With("runtime", cfg.Runtime),
		created:    errors.Is(statErr, os.ErrNotExist),
		startGrace: nativeStartGrace,
		stdout:     &logStream{w: cfg.Stdout},
		stderr:     &logStream{w: cfg.Stderr},
	}
	s.bufs.New = func() any { b := make([]byte, 0, 4096); return &b }
	if d.prestart {
		s.prestartLauncher()
	}
	if cfg.Prestart && d.stdinInit {
		if err := s.prestart(); err != nil {
			// /init starts one as it would without Prestart.
			s.log.Warn("prestart the launcher", "err", err)
		}
	}
	return s, nil
}

// findInterpreter resolves the runtime's interpreter to an absolute path; ""
// for the native runtime, which has none.
func findInterpreter(cfg Config, d *dialect) (string, error) {
	if d.interpreter == "" {
		return "", nil
	}
	interp := cfg.Interpreter
	switch cfg.Runtime {
	case RuntimeNodeJS:
		interp = cfg.NodePath
	case RuntimePython:
		interp = cfg.PythonPath
	}
	if interp == "" {
		interp = d.interpreter
	}
	interp, err := exec.LookPath(interp)
	if err != nil {
		return "", fmt.Errorf("new proxy: find %s interpreter: %w", cfg.Runtime, err)
	}
	if interp, err = filepath.Abs(interp); err != nil {
		return "", fmt.Errorf("new proxy: interpreter path: %w", err)
	}
	return interp, nil
}

func setDefaults(cfg *Config) {
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxUnzipBytes <= 0 {
		cfg.MaxUnzipBytes = DefaultMaxUnzipBytes
	}
	if cfg.MaxUnzipFiles <= 0 {
		cfg.MaxUnzipFiles = DefaultMaxUnzipFiles
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Env == nil {
		path := os.Getenv("PATH")
		if path == "" {
			path = "/usr/local/bin:/usr/bin:/bin"
		}
		cfg.Env = []string{"PATH=" + path, "HOME=" + cfg.WorkDir, "LANG=C.UTF-8"}
	}
}

// ServeHTTP answers POST /init and POST /run.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/init", "/run":
	case BinaryPath:
		s.serveBinary(w, r)
		return
	default:
		if r.URL.Path == "/" && s.spareStarting() {
			// A readiness probe (the Docker backend's GET /) waits for
			// the prestarted runtime, so a stem cell counts as ready
			// only once /init needs no interpreter start.
			sendError(w, http.StatusServiceUnavailable, "the runtime is starting")
			return
		}
		sendError(w, http.StatusNotFound, "not found: "+r.URL.Path)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		sendError(w, http.StatusMethodNotAllowed, "method not allowed: "+r.Method)
		return
	}
	if s.cfg.Secret != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get(SecretHeader)), []byte(s.cfg.Secret)) != 1 {
		sendError(w, http.StatusForbidden, "The request is not authorized: it lacks the container's secret.")
		return
	}
	if r.URL.Path == "/init" {
		s.handleInit(w, r)
		return
	}
	s.handleRun(w, r)
}

// Pid is the launcher's process id (and, negated, its process group) while
// it runs after a successful init; 0 otherwise.
func (s *Server) Pid() int {
	if state(s.state.Load()) != stateReady {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.l == nil {
		return 0
	}
	return s.l.pid
}

// Exited is closed once the launcher has exited, for whatever reason; it is
// nil before /init started one.
func (s *Server) Exited() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.l == nil {
		return nil
	}
	return s.l.exited
}

// Close kills the launcher's process group, waits for it and removes the
// files the Server wrote. In-flight requests fail. It is idempotent.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.state.Store(int32(stateClosed))
		l, pre, spare := s.l, s.pre, s.spare
		s.pre, s.spare = nil, nil
		s.mu.Unlock()
		if l != nil {
			l.stop()
		}
		if pre != nil && pre != l {
			pre.stop()
		}
		if spare != nil {
			spare.stop()
		}
		s.closeErr = s.removeFiles()
	})
	return s.closeErr
}

func (s *Server) removeFiles() error {
	if s.created {
		if err := os.RemoveAll(s.cfg.WorkDir); err != nil {
			return fmt.Errorf("close proxy: remove work dir: %w", err)
		}
		return nil
	}
	var errs []error
	for _, p := range []string{s.codeDir(), s.launcherPath()} {
		if p == "" {
			continue
		}
		if err := os.RemoveAll(p); err != nil {
			errs = append(errs, fmt.Errorf("close proxy: remove %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

func (s *Server) codeDir() string { return filepath.Join(s.cfg.WorkDir, "action") }

// launcherPath is where the launcher is written; "" when there is none.
func (s *Server) launcherPath() string {
	if s.d.launcherName == "" {
		return ""
	}
	return filepath.Join(s.cfg.WorkDir, s.d.launcherName)
}
