package server

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/wispio/wisp/internal/testenv"
)

// TestClusterShapeOnNATS runs all roles of one node on NATS, the shape a
// cluster is built in (wired through bus.Bus alone): the invoker is found
// by its pings, a fire goes through the shared triggers queue and its rule's
// action through the invoker's queue and the completions.
func TestClusterShapeOnNATS(t *testing.T) {
	natsURL := testenv.NATS(t)
	srv, a := startTriggerServer(t, func(c *Config) {
		c.Cluster.BusURL = natsURL
		c.Cluster.BusPrefix = fmt.Sprintf("shape%d", time.Now().UnixNano())
		c.Cluster.ID = "n1"
	})
	waitFor(t, "the invoker's first ping", func() bool { return slices.Contains(srv.Invokers(), "n1") })
	a.action("hello", 1)
	a.must(200, "PUT", "_/triggers/T", map[string]any{})
	a.rule("R", "T", "hello")
	id := a.fire("T", map[string]any{"q": "payload"}, http.StatusAccepted)
	acts := a.firedActions(id)
	if len(acts) != 1 {
		t.Fatalf("%d action activations, want 1", len(acts))
	}
	if got := echoed(t, acts[0]); got["q"] != "payload" {
		t.Fatalf("the action got %v, want the payload's q", got)
	}
}
