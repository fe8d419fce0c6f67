package invoker

import (
	"context"
	"fmt"
)

// ImageError means the image an action names is not on the engine; Wisp
// pulls nothing, so it is the developer's to build or load. The activation
// gets a developer error, not a system error.
type ImageError struct {
	Image string
	Err   error
}

func (e *ImageError) Error() string {
	return fmt.Sprintf("image %q is not available on this invoker: %v", e.Image, e.Err)
}

func (e *ImageError) Unwrap() error { return e.Err }

// Spec describes the container an action needs.
type Spec struct {
	// Kind is the concrete exec kind ("nodejs:20"), or "blackbox".
	Kind string
	// Image is the image of a blackbox action.
	Image string
	// MemoryMB is the action's memory limit.
	MemoryMB int
	// Action names the action, for labels and logs only.
	Action string
	// NoNetwork cuts the container off every network (the action's
	// annotation "network": false); the invoker still reaches it.
	NoNetwork bool
}

// Backend makes action containers.
type Backend interface {
	// Name is the backend's name for logs ("process", "docker").
	Name() string
	// Create starts a container for spec that answers the action-container
	// protocol at its URL, not yet initialised.
	Create(ctx context.Context, spec Spec) (Container, error)
	// Close removes every container the backend made.
	Close(ctx context.Context) error
}

// Container is one running action container.
type Container interface {
	// ID identifies the container in logs.
	ID() string
	// URL is the base URL of the container's /init and /run endpoints.
	URL() string
	// Logs is where the container's stdout and stderr arrive.
	Logs() *LogCollector
	// Pause freezes the container; Resume thaws it.
	Pause(ctx context.Context) error
	Resume(ctx context.Context) error
	// Destroy stops the container and frees what it holds, paused or not.
	Destroy(ctx context.Context) error
	// Alive reports false once the container is known to have stopped on
	// its own (its engine restarted, its process died); it must not block.
	Alive() bool
}

// secretContainer is a Container whose action proxy requires a secret on
// /init and /run (the Docker backend's runtime containers): a neighbour
// that reaches its address cannot drive it.
type secretContainer interface {
	Secret() string
}

// containerSecret is c's secret, or "" when it needs none.
func containerSecret(c Container) string {
	if s, ok := c.(secretContainer); ok {
		return s.Secret()
	}
	return ""
}
