package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wispio/wisp/actions"
	"github.com/wispio/wisp/actions/images"
	"github.com/wispio/wisp/invoker"
	"github.com/wispio/wisp/invoker/docker"
	"github.com/wispio/wisp/invoker/process"
)

// Invoker backends.
const (
	BackendProcess = "process"
	BackendDocker  = "docker"
	// BackendAuto picks Docker when an engine answers, else, only when
	// the server listens on a loopback address, the process backend with a
	// warning; on any other address it refuses to start (fail closed).
	BackendAuto = "auto"
)

// newBackend makes the invoker backend cfg.Invoker names.
func (s *Server) newBackend(ctx context.Context) (invoker.Backend, error) {
	switch s.cfg.Invoker {
	case BackendProcess:
		return s.processBackend()
	case BackendDocker:
		return s.dockerBackend(ctx)
	case BackendAuto:
		b, err := s.dockerBackend(ctx)
		if err == nil {
			return b, nil
		}
		if !LoopbackAddr(s.cfg.Addr) {
			return nil, fmt.Errorf("invoker auto: no usable Docker engine, and --addr %s is reachable from other hosts: "+
				"refusing to run actions as local processes without isolation; start Docker, or pass --invoker process "+
				"to run them as processes explicitly: %w", s.cfg.Addr, err)
		}
		s.log.Warn("no usable Docker engine; falling back to the process backend (only because --addr is loopback)", "err", err)
		return s.processBackend()
	}
	return nil, fmt.Errorf("invoker: unknown backend %q (available: process, docker, auto)", s.cfg.Invoker)
}

// LoopbackAddr reports whether the listen address addr (host:port) is
// reachable only from this machine: "localhost" or a loopback IP. An empty
// host, an unspecified IP, any other name and a malformed address are not.
func LoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// processBackend makes the process backend. As root, actions run as
// unprivileged users of their own in working folders outside the data
// folder, which is made private to root.
func (s *Server) processBackend() (invoker.Backend, error) {
	if os.Geteuid() != 0 {
		s.log.Warn("using the process invoker backend: actions run as local processes, as this user, with no isolation")
		return process.New(process.Config{Dir: filepath.Join(s.cfg.DataDir, "containers")}, s.log)
	}
	if err := os.Chmod(s.cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("make the data folder private: %w", err)
	}
	s.log.Warn("using the process invoker backend: actions run as unprivileged local users without capabilities, but share the host's network, kernel and world-readable files")
	return process.New(process.Config{}, s.log)
}

// dockerBackend connects to the engine and builds the runtime images that
// are missing or stale from this machine's interpreters and wisp binary.
func (s *Server) dockerBackend(ctx context.Context) (invoker.Backend, error) {
	cfg := docker.DefaultConfig(s.InvokerID())
	dir, err := filepath.Abs(filepath.Join(s.cfg.DataDir, "sockets"))
	if err != nil {
		return nil, fmt.Errorf("socket folder: %w", err)
	}
	cfg.SocketDir, cfg.Sockets = dir, s.cfg.DockerSockets
	if s.cfg.DockerNetwork != "" {
		cfg.Network = s.cfg.DockerNetwork
	}
	b, err := docker.New(ctx, cfg, s.log)
	if err != nil {
		return nil, err
	}
	wisp := s.cfg.ProxyBinary
	if wisp == "" {
		if wisp, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("find the wisp binary for runtime images: %w", err)
		}
	}
	failed := map[string]error{}
	for _, rt := range RuntimeImages(s.cfg.API.Kinds) {
		if err := images.Ensure(ctx, b.Client(), rt, wisp); err != nil {
			failed[rt.Kind] = err
			continue
		}
		cfg.Images[rt.Kind] = rt.Image // the backend shares this map; no container exists yet
	}
	s.usePrebuiltImages(ctx, b, cfg.Images, failed, wisp)
	return b, nil
}

// usePrebuiltImages adds to have the runtime images this machine could not
// build (the FROM-scratch image has no interpreters; failed holds why
// Ensure could not, by kind) that the engine holds already, built by `make
// image` or `wisp runtimes build` on its host (images.Prebuilt); one built
// from another wisp binary is used too, with a warning, since its action
// proxy may speak an older protocol.
func (s *Server) usePrebuiltImages(ctx context.Context, b *docker.Backend, have map[string]string, failed map[string]error, wisp string) {
	var kinds []actions.Runtime
	for _, rts := range s.cfg.API.Kinds.ByFamily() {
		kinds = append(kinds, rts...)
	}
	slices.SortFunc(kinds, func(a, b actions.Runtime) int { return strings.Compare(a.Kind, b.Kind) })
	for _, rt := range kinds {
		if _, ok := have[rt.Kind]; ok || rt.Image == "" {
			continue
		}
		found, same, err := images.Prebuilt(ctx, b.Client(), rt.Image, wisp)
		switch {
		case err != nil || (!found && failed[rt.Kind] != nil):
			if failed[rt.Kind] != nil {
				err = failed[rt.Kind]
			}
			s.log.Warn("runtime image unavailable; actions of this kind will fail on Docker", "kind", rt.Kind, "image", rt.Image, "err", err)
			continue
		case !found:
			s.log.Info("no runtime image, and no toolchain here to build it; actions of this kind fail on Docker until `make image` or `wisp runtimes build` builds it on the engine's host", "kind", rt.Kind, "image", rt.Image)
			continue
		case same:
			s.log.Info("using the runtime image built beforehand", "kind", rt.Kind, "image", rt.Image)
		default:
			s.log.Warn("using a runtime image built from another wisp binary; rebuild it (make image, or wisp runtimes build) if its actions fail", "kind", rt.Kind, "image", rt.Image)
		}
		have[rt.Kind] = rt.Image
	}
}

// InvokerID names this server's invoker on the Docker engine: containers
// carry it as a label, and a restart with the same data folder removes the
// containers the previous run left behind, while two servers with their own
// data folders never touch each other's.
func (s *Server) InvokerID() string {
	dir, err := filepath.Abs(s.cfg.DataDir)
	if err != nil {
		dir = s.cfg.DataDir
	}
	sum := sha256.Sum256([]byte(dir))
	return "wisp-" + hex.EncodeToString(sum[:6])
}

// RuntimeImages lists the images to build from this machine's toolchains
// (images.ForKinds).
func RuntimeImages(kinds *actions.Kinds) []images.Runtime { return images.ForKinds(kinds) }
