// Package docker is the invoker backend that runs each action container in
// a Docker engine: created with the action's memory limit (no swap), a pids
// limit, CPU shares by memory, a read-only root with a tmpfs /tmp, every
// capability dropped, no-new-privileges and a non-root user, its port 8080
// published on 127.0.0.1 only. Pause and resume freeze the container's
// cgroup directly (v1 freezer.state or v2 cgroup.freeze), falling back to
// the engine's pause API. Containers carry Wisp's labels, so orphans of an
// earlier run are removed at start. Main type: Backend.
package docker
