package docker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	dclient "github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/docker/go-connections/nat"

	"github.com/wispio/wisp/actions/proxy"
	"github.com/wispio/wisp/invoker"
)

// Labels Wisp puts on its containers.
const (
	labelOwner  = "wisp.invoker"
	labelAction = "wisp.action"
)

// Config configures the backend.
type Config struct {
	// InvokerID labels the containers; orphans with this label are removed
	// at start.
	InvokerID string
	// Images maps a concrete kind ("nodejs:20") to its runtime image;
	// blackbox actions name their own image.
	Images map[string]string
	// PidsLimit caps the processes of one container.
	PidsLimit int64
	// User runs the container's process (numeric uid[:gid]).
	User string
	// ReadyTimeout bounds the wait for a new container's HTTP server.
	ReadyTimeout time.Duration
	// SocketDir holds the unix sockets of runtime containers reached that
	// way: each gets a folder of its own under SocketDir, bind-mounted at
	// /run/wisp, where its proxy listens on proxy.sock. No port is
	// published, so neither docker-proxy nor a port is spent on it. It
	// must be a path of the engine's host (it is when Wisp runs there).
	// Containers without network always use a socket; empty SocketDir
	// means those cannot run.
	SocketDir string
	// Sockets reaches every runtime container on a socket. Blackbox
	// images keep port 8080.
	Sockets bool
	// Network is the Docker network action containers join (those with
	// network): DefaultNetwork by default, created at start when missing
	// as a bridge whose containers cannot reach each other. A network
	// named here that lets them is used as it is, with a warning.
	Network string
}

// socketTarget is where a container's socket folder is mounted.
const socketTarget = "/run/wisp"

// DefaultConfig returns the limits Wisp applies by default.
func DefaultConfig(invokerID string) Config {
	return Config{InvokerID: invokerID, Images: map[string]string{}, PidsLimit: 128, User: "65534:65534", ReadyTimeout: 30 * time.Second, Network: DefaultNetwork}
}

// Backend makes Docker containers.
type Backend struct {
	cfg    Config
	api    *dclient.Client
	log    *slog.Logger
	probe  *http.Client
	freeze freezer

	mu   sync.Mutex // guards live
	live map[string]*dockerContainer

	stopWatch context.CancelFunc
	watching  sync.WaitGroup
}

// New connects to the engine (DOCKER_HOST or the default socket, API
// version negotiated) and removes containers an earlier run left behind.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Backend, error) {
	api, err := dclient.NewClientWithOpts(dclient.FromEnv, dclient.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	if _, err := api.Ping(ctx); err != nil {
		_ = api.Close()
		return nil, fmt.Errorf("docker engine does not answer: %w", err)
	}
	if cfg.SocketDir != "" {
		// sun_path holds 108 bytes: the folder, "/c-" and a random name,
		// "/proxy.sock" and a NUL must fit.
		if n := len(cfg.SocketDir) + len("/c-1234567890/proxy.sock") + 1; n > 108 {
			err := fmt.Errorf("socket folder %s is too long for unix socket paths (%d > 108 bytes)", cfg.SocketDir, n)
			if cfg.Sockets {
				_ = api.Close()
				return nil, err
			}
			log.Warn("actions without network cannot run", "err", err)
			cfg.SocketDir = ""
		}
	}
	b := &Backend{
		cfg: cfg, api: api, log: log, freeze: newFreezer(),
		probe: probeClient(),
		live:  map[string]*dockerContainer{},
	}
	if err := b.removeOrphans(ctx); err != nil {
		return nil, err
	}
	if cfg.Network == "" {
		b.cfg.Network = DefaultNetwork
	}
	if err := b.ensureNetwork(ctx); err != nil {
		_ = api.Close()
		return nil, err
	}
	watchCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	b.stopWatch = stop
	b.watching.Add(1)
	go func() {
		defer b.watching.Done()
		b.watch(watchCtx)
	}()
	return b, nil
}

// watch follows the engine's events for this invoker's containers and
// marks a container dead when it stops on its own (an OOM kill, a crash, a
// restart of dockerd, which stops every container), so that the pool never
// hands it out again. When the event stream breaks (dockerd restarting) it
// reconnects with backoff and reconciles against the engine's list, since
// events sent while it was away are lost.
func (b *Backend) watch(ctx context.Context) {
	f := filters.NewArgs(filters.Arg("type", "container"), filters.Arg("label", labelOwner+"="+b.cfg.InvokerID), filters.Arg("event", "die"))
	backoff := 50 * time.Millisecond
	connected := true
	for ctx.Err() == nil {
		msgs, errs := b.api.Events(ctx, events.ListOptions{Filters: f})
		if err := b.reconcile(ctx); err == nil {
			backoff = 50 * time.Millisecond
			if !connected {
				b.log.Info("docker engine answers again")
			}
			connected = true
		}
	stream:
		for {
			select {
			case m := <-msgs:
				b.markDead(m.Actor.ID)
			case err := <-errs:
				if ctx.Err() == nil && connected {
					b.log.Warn("docker event stream ended; reconnecting", "err", err)
				}
				connected = false
				break stream
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 2*time.Second)
	}
}

// reconcile marks every live container the engine no longer runs as dead.
func (b *Backend) reconcile(ctx context.Context) error {
	list, err := b.api.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(filters.Arg("label", labelOwner+"="+b.cfg.InvokerID))})
	if err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	running := make(map[string]bool, len(list))
	for _, c := range list {
		running[c.ID] = true
	}
	b.mu.Lock()
	var gone []string
	for id, c := range b.live {
		if !running[id] && c.started.Load() {
			gone = append(gone, id)
		}
	}
	b.mu.Unlock()
	for _, id := range gone {
		b.markDead(id)
	}
	return nil
}

func (b *Backend) markDead(id string) {
	b.mu.Lock()
	c := b.live[id]
	b.mu.Unlock()
	if c != nil && !c.dead.Swap(true) {
		b.log.Info("action container stopped", "container", short(id))
	}
}

func probeClient() *http.Client {
	c := invoker.NewHTTPClient()
	c.Timeout = time.Second
	return c
}

// Name is "docker".
func (b *Backend) Name() string { return "docker" }

// Ping reports whether the engine answers (GET /readyz).
func (b *Backend) Ping(ctx context.Context) error {
	if _, err := b.api.Ping(ctx); err != nil {
		return fmt.Errorf("docker engine does not answer: %w", err)
	}
	return nil
}

// Client is the engine client, for tests and image building.
func (b *Backend) Client() *dclient.Client { return b.api }

func (b *Backend) image(spec invoker.Spec) (string, error) {
	if spec.Kind == "blackbox" {
		if spec.Image == "" {
			return "", errors.New("a blackbox action needs an image")
		}
		return spec.Image, nil
	}
	img, ok := b.cfg.Images[spec.Kind]
	if !ok {
		return "", fmt.Errorf("no runtime image for kind %q", spec.Kind)
	}
	return img, nil
}

// Create starts a container for spec and waits until its server answers.
func (b *Backend) Create(ctx context.Context, spec invoker.Spec) (invoker.Container, error) {
	image, err := b.image(spec)
	if err != nil {
		return nil, err
	}
	memory := int64(spec.MemoryMB) << 20
	port := nat.Port("8080/tcp")
	cfg := &container.Config{
		Image:        image,
		User:         b.cfg.User,
		ExposedPorts: nat.PortSet{port: {}},
		Labels:       map[string]string{labelOwner: b.cfg.InvokerID, labelAction: spec.Action},
	}
	var secret string
	if spec.Kind != "blackbox" {
		// The runtime image's proxy requires it on /init and /run
		// (actions/proxy.TakeSecret): a neighbour that reaches the
		// container's address still cannot drive it.
		if secret, err = newSecret(); err != nil {
			return nil, err
		}
		cfg.Env = []string{proxy.SecretEnv + "=" + secret}
	}
	host := &container.HostConfig{
		NetworkMode:    container.NetworkMode(b.cfg.Network),
		PortBindings:   nat.PortMap{port: {{HostIP: "127.0.0.1", HostPort: "0"}}},
		ReadonlyRootfs: true,
		Tmpfs:          map[string]string{"/tmp": "rw,exec,nosuid,nodev,size=64m"}, // exec: native actions run their code from here (noexec is Docker's default)
		CapDrop:        []string{"ALL"},
		SecurityOpt:    []string{"no-new-privileges"},
		// The invoker reads the output from an attach (see start); the
		// engine keeps no log file of it (the records hold the logs).
		LogConfig: container.LogConfig{Type: "none"},
		Resources: container.Resources{
			Memory:     memory,
			MemorySwap: memory, // no swap
			PidsLimit:  &b.cfg.PidsLimit,
			CPUShares:  int64(spec.MemoryMB) * 1024 / 256, // 256 MB = one default share
		},
	}
	if spec.NoNetwork {
		if spec.Kind == "blackbox" || b.cfg.SocketDir == "" {
			return nil, fmt.Errorf("%s: an action without network (annotation network: false) needs a runtime kind and a socket folder", spec.Action)
		}
		host.NetworkMode = "none"
	}
	var socketDir string
	if (b.cfg.Sockets || spec.NoNetwork) && spec.Kind != "blackbox" {
		if socketDir, err = b.socketFolder(); err != nil {
			return nil, err
		}
		cfg.ExposedPorts, host.PortBindings = nil, nil
		cfg.Cmd = []string{"--addr", "unix:" + socketTarget + "/proxy.sock"}
		host.Mounts = []mount.Mount{{Type: mount.TypeBind, Source: socketDir, Target: socketTarget}}
	}
	t0 := time.Now()
	created, err := b.api.ContainerCreate(ctx, cfg, host, nil, nil, "")
	tCreate := time.Since(t0)
	if err != nil && socketDir != "" {
		_ = os.RemoveAll(socketDir)
	}
	if cerrdefs.IsNotFound(err) {
		return nil, &invoker.ImageError{Image: image, Err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("create container from %s: %w", image, err)
	}
	c := &dockerContainer{id: created.ID, backend: b, logs: invoker.NewLogCollector(), socketDir: socketDir, secret: secret}
	b.mu.Lock()
	b.live[c.id] = c
	b.mu.Unlock()
	if err := b.start(ctx, c); err != nil {
		return nil, errors.Join(err, c.Destroy(context.WithoutCancel(ctx)))
	}
	b.log.Debug("container started", "container", c.ID(), "action", spec.Action, "create", tCreate, "start", c.startTook, "total", time.Since(t0))
	return c, nil
}

func (b *Backend) start(ctx context.Context, c *dockerContainer) error {
	t0 := time.Now()
	// The container's output is read from an attach made before it starts,
	// not from its log: a warm activation waits for its sentinels, which a
	// json-file log (written to the file, then read back by a follower)
	// delivered 1.5 ms after the answer on average, the attached stream
	// 0.1 ms.
	att, err := b.api.ContainerAttach(context.WithoutCancel(ctx), c.id, container.AttachOptions{Stream: true, Stdout: true, Stderr: true})
	if err != nil {
		return fmt.Errorf("attach to container %s: %w", short(c.id), err)
	}
	go func() {
		defer att.Close()
		_, _ = stdcopy.StdCopy(c.logs.Stdout(), c.logs.Stderr(), att.Reader)
	}()
	if err := b.api.ContainerStart(ctx, c.id, container.StartOptions{}); err != nil {
		return fmt.Errorf("start container %s: %w", short(c.id), err)
	}
	c.started.Store(true)
	c.startTook = time.Since(t0)
	if c.socketDir != "" {
		// Known without asking the engine.
		c.url = invoker.UnixURL(filepath.Join(c.socketDir, "proxy.sock"))
	} else {
		info, err := b.api.ContainerInspect(ctx, c.id)
		if err != nil {
			return fmt.Errorf("inspect container %s: %w", short(c.id), err)
		}
		bindings := info.NetworkSettings.Ports[nat.Port("8080/tcp")]
		if len(bindings) == 0 {
			return fmt.Errorf("container %s has no published port", short(c.id))
		}
		c.url = "http://127.0.0.1:" + bindings[0].HostPort
	}
	return b.waitReady(ctx, c)
}

// waitReady polls the container's port until its HTTP server answers:
// Docker's port proxy accepts connections before the server listens. A
// runtime container's proxy answers 503 while its prestarted interpreter
// loads (actions/proxy Config.Prestart): it is ready, a stem cell that
// /init finds waiting, only after that.
func (b *Backend) waitReady(ctx context.Context, c *dockerContainer) error {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.ReadyTimeout)
	defer cancel()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.url+"/", nil)
		if resp, err := b.probe.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable || c.secret == "" {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("container %s did not answer on %s: %w", short(c.id), c.url, ctx.Err())
		case <-tick.C:
		}
	}
}

// socketFolder makes a fresh folder for one container's socket. The
// container's user is not the invoker's, so the folder is open to all; its
// parent is not listable, and its name is random.
func (b *Backend) socketFolder() (string, error) {
	if err := os.MkdirAll(b.cfg.SocketDir, 0o711); err != nil {
		return "", fmt.Errorf("socket folder: %w", err)
	}
	dir, err := os.MkdirTemp(b.cfg.SocketDir, "c-")
	if err != nil {
		return "", fmt.Errorf("socket folder: %w", err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("socket folder: %w", err)
	}
	return dir, nil
}

// removeOrphans removes containers labelled with this invoker's id.
func (b *Backend) removeOrphans(ctx context.Context) error {
	list, err := b.api.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", labelOwner+"="+b.cfg.InvokerID))})
	if err != nil {
		return fmt.Errorf("list orphaned containers: %w", err)
	}
	var errs []error
	for _, c := range list {
		b.freeze.thaw(c.ID)
		if err := b.api.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove orphan %s: %w", short(c.ID), err))
		}
	}
	if len(list) > 0 {
		b.log.Info("removed orphaned action containers", "count", len(list))
	}
	if b.cfg.SocketDir != "" {
		stale, _ := filepath.Glob(filepath.Join(b.cfg.SocketDir, "c-*"))
		for _, dir := range stale {
			errs = append(errs, os.RemoveAll(dir))
		}
	}
	return errors.Join(errs...)
}

// Close removes every container of this backend.
func (b *Backend) Close(ctx context.Context) error {
	b.stopWatch()
	b.watching.Wait()
	b.mu.Lock()
	all := make([]*dockerContainer, 0, len(b.live))
	for _, c := range b.live {
		all = append(all, c)
	}
	b.mu.Unlock()
	var errs []error
	for _, c := range all {
		errs = append(errs, c.Destroy(ctx))
	}
	return errors.Join(append(errs, b.api.Close())...)
}

type dockerContainer struct {
	id        string
	url       string
	backend   *Backend
	logs      *invoker.LogCollector
	once      sync.Once
	socketDir string        // its socket folder on the host, in socket mode
	secret    string        // its proxy's secret; "" for a blackbox image
	started   atomic.Bool   // the engine started it (reconcile may judge it)
	dead      atomic.Bool   // it stopped on its own
	startTook time.Duration // how long the engine took to start it, for the debug log
}

// Alive reports false once the engine reported the container stopped.
func (c *dockerContainer) Alive() bool { return !c.dead.Load() }

func (c *dockerContainer) ID() string                  { return short(c.id) }
func (c *dockerContainer) Secret() string              { return c.secret }
func (c *dockerContainer) URL() string                 { return c.url }
func (c *dockerContainer) Logs() *invoker.LogCollector { return c.logs }

// Pause freezes the container's cgroup, or asks the engine when the cgroup
// is out of reach.
func (c *dockerContainer) Pause(ctx context.Context) error {
	if c.backend.freeze.freeze(c.id) {
		return nil
	}
	if err := c.backend.api.ContainerPause(ctx, c.id); err != nil {
		return fmt.Errorf("pause %s: %w", short(c.id), err)
	}
	return nil
}

// Resume thaws what Pause froze.
func (c *dockerContainer) Resume(ctx context.Context) error {
	if c.backend.freeze.thaw(c.id) {
		return nil
	}
	if err := c.backend.api.ContainerUnpause(ctx, c.id); err != nil {
		return fmt.Errorf("resume %s: %w", short(c.id), err)
	}
	return nil
}

// Destroy thaws (a frozen process cannot die) and removes the container.
func (c *dockerContainer) Destroy(ctx context.Context) error {
	var err error
	c.once.Do(func() {
		b := c.backend
		b.mu.Lock()
		delete(b.live, c.id)
		b.mu.Unlock()
		b.freeze.thaw(c.id)
		if rerr := b.api.ContainerRemove(ctx, c.id, container.RemoveOptions{Force: true}); rerr != nil && !cerrdefs.IsNotFound(rerr) {
			err = fmt.Errorf("remove container %s: %w", short(c.id), rerr)
		}
		if c.socketDir != "" {
			err = errors.Join(err, os.RemoveAll(c.socketDir))
		}
	})
	return err
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
