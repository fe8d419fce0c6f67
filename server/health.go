package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wispio/wisp/health"
	"github.com/wispio/wisp/invoker"
	"github.com/wispio/wisp/store"
)

// readyTimeout bounds one /readyz probe: each check gets this long.
const readyTimeout = 3 * time.Second

// pinger is a part that can tell whether its server answers: the NATS bus
// and the Docker backend.
type pinger interface {
	Ping(ctx context.Context) error
}

// readiness returns the checks of /readyz for the parts this process runs:
// the store and the bus always, the Docker engine when the invoker runs on
// it, and the feed manager on the feeds role.
func (s *Server) readiness(roles Roles, backend invoker.Backend) *health.Checker {
	checks := []health.Check{
		{Name: "store", Run: s.pingStore},
		{Name: "bus", Run: func(ctx context.Context) error {
			if p, ok := s.bus.(pinger); ok {
				return p.Ping(ctx)
			}
			return nil // the in-process bus answers while the process runs
		}},
	}
	if p, ok := backend.(pinger); ok && backend.Name() == BackendDocker {
		checks = append(checks, health.Check{Name: "docker", Run: p.Ping})
	}
	if roles.Feeds {
		checks = append(checks, health.Check{Name: "feeds", Run: func(context.Context) error {
			if !s.feedsStarted {
				return errors.New("the feed manager is not running")
			}
			return nil
		}})
	}
	return health.New(readyTimeout, checks...)
}

// pingStore reads a record that does not exist: the store answers when it
// says so.
func (s *Server) pingStore(ctx context.Context) error {
	_, err := s.store.Get(ctx, "whisk.system", store.Actions, "wisp-readyz-probe")
	if err == nil || errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return fmt.Errorf("read: %w", err)
}
