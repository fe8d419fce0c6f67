package docker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	dclient "github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/docker/go-connections/nat"

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
}

// DefaultConfig returns the limits Wisp applies by default.
func DefaultConfig(invokerID string) Config {
	return Config{InvokerID: invokerID, Images: map[string]string{}, PidsLimit: 128, User: "65534:65534", ReadyTimeout: 30 * time.Second}
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
	b := &Backend{
		cfg: cfg, api: api, log: log, freeze: newFreezer(),
		probe: &http.Client{Timeout: time.Second},
		live:  map[string]*dockerContainer{},
	}
	if err := b.removeOrphans(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

// Name is "docker".
func (b *Backend) Name() string { return "docker" }

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
	created, err := b.api.ContainerCreate(ctx, &container.Config{
		Image:        image,
		User:         b.cfg.User,
		ExposedPorts: nat.PortSet{port: {}},
		Labels:       map[string]string{labelOwner: b.cfg.InvokerID, labelAction: spec.Action},
	}, &container.HostConfig{
		PortBindings:   nat.PortMap{port: {{HostIP: "127.0.0.1", HostPort: "0"}}},
		ReadonlyRootfs: true,
		Tmpfs:          map[string]string{"/tmp": "rw,exec,nosuid,nodev,size=64m"}, // exec: native actions run their code from here (noexec is Docker's default)
		CapDrop:        []string{"ALL"},
		SecurityOpt:    []string{"no-new-privileges"},
		Resources: container.Resources{
			Memory:     memory,
			MemorySwap: memory, // no swap
			PidsLimit:  &b.cfg.PidsLimit,
			CPUShares:  int64(spec.MemoryMB) * 1024 / 256, // 256 MB = one default share
		},
	}, nil, nil, "")
	if err != nil {
		return nil, fmt.Errorf("create container from %s: %w", image, err)
	}
	c := &dockerContainer{id: created.ID, backend: b, logs: invoker.NewLogCollector()}
	b.mu.Lock()
	b.live[c.id] = c
	b.mu.Unlock()
	if err := b.start(ctx, c); err != nil {
		return nil, errors.Join(err, c.Destroy(context.WithoutCancel(ctx)))
	}
	return c, nil
}

func (b *Backend) start(ctx context.Context, c *dockerContainer) error {
	if err := b.api.ContainerStart(ctx, c.id, container.StartOptions{}); err != nil {
		return fmt.Errorf("start container %s: %w", short(c.id), err)
	}
	info, err := b.api.ContainerInspect(ctx, c.id)
	if err != nil {
		return fmt.Errorf("inspect container %s: %w", short(c.id), err)
	}
	bindings := info.NetworkSettings.Ports[nat.Port("8080/tcp")]
	if len(bindings) == 0 {
		return fmt.Errorf("container %s has no published port", short(c.id))
	}
	c.url = "http://127.0.0.1:" + bindings[0].HostPort
	logs, err := b.api.ContainerLogs(context.WithoutCancel(ctx), c.id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Follow: true})
	if err != nil {
		return fmt.Errorf("attach logs of %s: %w", short(c.id), err)
	}
	go func() {
		defer logs.Close()
		_, _ = stdcopy.StdCopy(c.logs.Stdout(), c.logs.Stderr(), logs)
	}()
	return b.waitReady(ctx, c)
}

// waitReady polls the container's port until its HTTP server answers:
// Docker's port proxy accepts connections before the server listens.
func (b *Backend) waitReady(ctx context.Context, c *dockerContainer) error {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.ReadyTimeout)
	defer cancel()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.url+"/", nil)
		if resp, err := b.probe.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("container %s did not answer on %s: %w", short(c.id), c.url, ctx.Err())
		case <-tick.C:
		}
	}
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
		if err := b.api.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true}); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove orphan %s: %w", short(c.ID), err))
		}
	}
	if len(list) > 0 {
		b.log.Info("removed orphaned action containers", "count", len(list))
	}
	return errors.Join(errs...)
}

// Close removes every container of this backend.
func (b *Backend) Close(ctx context.Context) error {
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
	id      string
	url     string
	backend *Backend
	logs    *invoker.LogCollector
	once    sync.Once
}

func (c *dockerContainer) ID() string                  { return short(c.id) }
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
		if rerr := b.api.ContainerRemove(ctx, c.id, container.RemoveOptions{Force: true}); rerr != nil && !errdefs.IsNotFound(rerr) {
			err = fmt.Errorf("remove container %s: %w", short(c.id), rerr)
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
