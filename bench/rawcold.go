package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	dclient "github.com/docker/docker/client"
	"github.com/docker/go-connections/nat"

	"github.com/wispio/wisp/invoker"
	"github.com/wispio/wisp/invoker/docker"
)

// rawCold does by hand what a cold start needs, with the engine API and
// plain HTTP: create and start a container of the runtime image, poll
// until it answers, POST /init and /run, remove it.
type rawCold struct {
	api *dclient.Client
	img string
	// wispConfig makes the container as invoker/docker does (its network,
	// user, read-only root, /tmp, dropped capabilities, pids and CPU
	// limits); else only the memory limit is set, on the default bridge.
	wispConfig bool
	// sockets reaches the proxy on a unix socket in a folder under dir,
	// as docker-sockets does, instead of a published port.
	sockets bool
	dir     string
}

// sample times one raw cold start.
func (r rawCold) sample(ctx context.Context) (time.Duration, error) {
	hc := invoker.NewHTTPClient()
	hc.Timeout = 5 * time.Second
	defer hc.CloseIdleConnections()
	initBody, _ := json.Marshal(map[string]any{"value": map[string]any{"name": "noop", "main": "main", "code": noopJS}})
	port := nat.Port("8080/tcp")
	memory := int64(256 << 20)
	cfg := &container.Config{Image: r.img, ExposedPorts: nat.PortSet{port: {}}}
	host := &container.HostConfig{
		PortBindings: nat.PortMap{port: {{HostIP: "127.0.0.1", HostPort: "0"}}},
		Resources:    container.Resources{Memory: memory, MemorySwap: memory},
	}
	if r.wispConfig {
		pids := int64(128)
		cfg.User = "65534:65534"
		host.NetworkMode = container.NetworkMode(docker.DefaultNetwork)
		host.ReadonlyRootfs = true
		host.Tmpfs = map[string]string{"/tmp": "rw,exec,nosuid,nodev,size=64m"}
		host.CapDrop = []string{"ALL"}
		host.SecurityOpt = []string{"no-new-privileges"}
		host.Resources.PidsLimit, host.Resources.CPUShares = &pids, 1024
	}
	var sock string
	if r.sockets {
		dir, err := os.MkdirTemp(r.dir, "raw-")
		if err != nil {
			return 0, err
		}
		defer os.RemoveAll(dir)
		if err := os.Chmod(dir, 0o777); err != nil {
			return 0, err
		}
		sock = filepath.Join(dir, "proxy.sock")
		cfg.ExposedPorts, host.PortBindings = nil, nil
		cfg.Cmd = []string{"--addr", "unix:/run/wisp/proxy.sock"}
		host.Mounts = []mount.Mount{{Type: mount.TypeBind, Source: dir, Target: "/run/wisp"}}
	}
	t0 := time.Now()
	created, err := r.api.ContainerCreate(ctx, cfg, host, nil, nil, "")
	if err != nil {
		return 0, err
	}
	defer func() {
		_ = r.api.ContainerRemove(context.WithoutCancel(ctx), created.ID, container.RemoveOptions{Force: true})
	}()
	if err := r.api.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		return 0, err
	}
	url := invoker.UnixURL(sock)
	if !r.sockets {
		info, err := r.api.ContainerInspect(ctx, created.ID)
		if err != nil {
			return 0, err
		}
		url = "http://127.0.0.1:" + info.NetworkSettings.Ports[port][0].HostPort
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		if resp, err := hc.Get(url + "/"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("raw container %s did not answer", created.ID[:12])
		}
	}
	for _, call := range []struct {
		path string
		body []byte
	}{{"/init", initBody}, {"/run", []byte(`{"value": {}}`)}} {
		resp, err := hc.Post(url+call.path, "application/json", bytes.NewReader(call.body))
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("raw %s: %d", call.path, resp.StatusCode)
		}
	}
	return time.Since(t0), nil
}
