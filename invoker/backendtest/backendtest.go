// Package backendtest is the conformance suite of invoker.Backend, in the
// manner of store/storetest and bus/bustest: every backend (process,
// docker) runs Run, so that the invoker can rely on the same container
// life from either: a container of a kind answers /init and /run at its
// URL (with its secret, when it has one, and not without), survives a
// pause and a resume, stops answering once destroyed (paused or not), may
// be destroyed twice, and Close removes every container still running.
package backendtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/wispio/wisp/actions/proxy"
	"github.com/wispio/wisp/invoker"
)

// Wait bounds every request and backend call of the suite; it turns a hang
// into a failure and measures nothing.
const Wait = 60 * time.Second

// Config is what a backend's test gives Run.
type Config struct {
	// New returns a fresh backend for one case; the suite closes it.
	New func(t *testing.T) invoker.Backend
	// Spec is the container the cases create: a kind the backend runs.
	Spec invoker.Spec
	// Init is the value of the /init body that initialises a trivial
	// action in it ({"main": ..., "code": ...}; {} for a blackbox image).
	Init map[string]any
	// Run is the value of a /run body the action answers with 200 and a
	// JSON object.
	Run map[string]any
	// Remaining, when set, counts the containers of b left at the engine
	// (Docker's labelled containers); the suite wants none after Destroy
	// and Close.
	Remaining func(t *testing.T, b invoker.Backend) int
}

// Run runs every case against the backends cfg.New makes.
func Run(t *testing.T, cfg Config) {
	for _, tc := range []struct {
		name string
		run  func(*testing.T, Config)
	}{
		{"InitAndRun", initAndRun},
		{"SecretRequired", secretRequired},
		{"PauseAndResume", pauseAndResume},
		{"DestroyStopsAnswering", destroyStopsAnswering},
		{"DestroyPaused", destroyPaused},
		{"DestroyTwice", destroyTwice},
		{"CloseRemovesEverything", closeRemovesEverything},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, cfg) })
	}
}

// open makes a backend closed at the end of the test.
func open(t *testing.T, cfg Config) invoker.Backend {
	t.Helper()
	b := cfg.New(t)
	if b.Name() == "" {
		t.Error("the backend has no name")
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), Wait)
		defer cancel()
		if err := b.Close(ctx); err != nil {
			t.Errorf("close the backend: %v", err)
		}
	})
	return b
}

// create makes a container of cfg.Spec and initialises it.
func create(t *testing.T, cfg Config, b invoker.Backend) invoker.Container {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), Wait)
	defer cancel()
	c, err := b.Create(ctx, cfg.Spec)
	if err != nil {
		t.Fatalf("create a %s container: %v", cfg.Spec.Kind, err)
	}
	t.Logf("container %s at %s", c.ID(), c.URL())
	if c.ID() == "" || c.URL() == "" {
		t.Errorf("container id %q, URL %q: want both", c.ID(), c.URL())
	}
	if status, body, err := Post(t.Context(), c, "/init", cfg.Init); err != nil || status != http.StatusOK {
		t.Fatalf("init = %d %s %v", status, body, err)
	}
	return c
}

// run posts cfg.Run to c's /run and checks the answer.
func run(t *testing.T, cfg Config, c invoker.Container, what string) {
	t.Helper()
	status, body, err := Post(t.Context(), c, "/run", cfg.Run)
	var obj map[string]any
	if err != nil || status != http.StatusOK || json.Unmarshal(body, &obj) != nil {
		t.Fatalf("run %s = %d %s %v: want 200 and a JSON object", what, status, body, err)
	}
}

// Post sends {"value": value} to path of c, with c's secret when it has
// one, through invoker.NewHTTPClient (which dials unix-socket URLs); it
// answers the status and body, or the error of a container that does not
// answer. Connections are not kept: every Post dials afresh.
func Post(ctx context.Context, c invoker.Container, path string, value map[string]any) (int, []byte, error) {
	return post(ctx, c, path, value, secretOf(c))
}

func post(ctx context.Context, c invoker.Container, path string, value map[string]any, secret string) (int, []byte, error) {
	if value == nil {
		value = map[string]any{}
	}
	b, err := json.Marshal(map[string]any{"value": value})
	if err != nil {
		return 0, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, Wait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL()+path, bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set(proxy.SecretHeader, secret)
	}
	client := invoker.NewHTTPClient()
	client.Transport.(*http.Transport).DisableKeepAlives = true
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("post %s: %w", path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// secretOf is c's proxy secret, "" when it needs none.
func secretOf(c invoker.Container) string {
	if s, ok := c.(interface{ Secret() string }); ok {
		return s.Secret()
	}
	return ""
}

func initAndRun(t *testing.T, cfg Config) {
	c := create(t, cfg, open(t, cfg))
	run(t, cfg, c, "once")
	run(t, cfg, c, "again") // a warm container takes more activations
	if !c.Alive() {
		t.Error("a running container reports itself dead")
	}
}

// secretRequired: a container with a secret refuses /init and /run
// without it (a neighbour that reaches its address cannot drive it).
func secretRequired(t *testing.T, cfg Config) {
	b := open(t, cfg)
	ctx, cancel := context.WithTimeout(t.Context(), Wait)
	defer cancel()
	c, err := b.Create(ctx, cfg.Spec)
	if err != nil {
		t.Fatal(err)
	}
	if secretOf(c) == "" {
		t.Skipf("%s containers of kind %s need no secret", b.Name(), cfg.Spec.Kind)
	}
	for _, path := range []string{"/init", "/run"} {
		if status, body, err := post(t.Context(), c, path, cfg.Init, ""); err == nil && status == http.StatusOK {
			t.Errorf("%s without the secret = %d %s", path, status, body)
		}
	}
}

func pauseAndResume(t *testing.T, cfg Config) {
	c := create(t, cfg, open(t, cfg))
	run(t, cfg, c, "before the pause")
	for range 2 { // a container is paused and resumed many times
		if err := c.Pause(t.Context()); err != nil {
			t.Fatalf("pause: %v", err)
		}
		if err := c.Resume(t.Context()); err != nil {
			t.Fatalf("resume: %v", err)
		}
		run(t, cfg, c, "after a resume")
	}
}

// gone checks that c stops answering and that the engine holds none of
// b's containers.
func gone(t *testing.T, cfg Config, b invoker.Backend, c invoker.Container, what string) {
	t.Helper()
	if status, body, err := Post(t.Context(), c, "/run", cfg.Run); err == nil {
		t.Errorf("%s: the container still answers %d %s", what, status, body)
	}
	if cfg.Remaining != nil {
		if n := cfg.Remaining(t, b); n != 0 {
			t.Errorf("%s: %d containers left", what, n)
		}
	}
}

func destroyStopsAnswering(t *testing.T, cfg Config) {
	b := open(t, cfg)
	c := create(t, cfg, b)
	run(t, cfg, c, "before Destroy")
	if err := c.Destroy(t.Context()); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	gone(t, cfg, b, c, "after Destroy")
}

func destroyPaused(t *testing.T, cfg Config) {
	b := open(t, cfg)
	c := create(t, cfg, b)
	run(t, cfg, c, "before the pause")
	if err := c.Pause(t.Context()); err != nil {
		t.Fatalf("pause: %v", err)
	}
	if err := c.Destroy(t.Context()); err != nil {
		t.Fatalf("destroy a paused container: %v", err)
	}
	gone(t, cfg, b, c, "after destroying a paused container")
}

func destroyTwice(t *testing.T, cfg Config) {
	b := open(t, cfg)
	c := create(t, cfg, b)
	for _, which := range []string{"Destroy", "a second Destroy"} {
		if err := c.Destroy(t.Context()); err != nil {
			t.Fatalf("%s: %v", which, err)
		}
	}
	gone(t, cfg, b, c, "after two Destroys")
}

// closeRemovesEverything: Close removes every container still there, a
// paused one included, and does not trip over one already destroyed.
func closeRemovesEverything(t *testing.T, cfg Config) {
	b := cfg.New(t)
	running, paused := create(t, cfg, b), create(t, cfg, b)
	if err := paused.Pause(t.Context()); err != nil {
		t.Fatalf("pause: %v", err)
	}
	destroyed := create(t, cfg, b)
	if err := destroyed.Destroy(t.Context()); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), Wait)
	defer cancel()
	if err := b.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	for _, c := range []invoker.Container{running, paused} {
		if status, body, err := Post(t.Context(), c, "/run", cfg.Run); err == nil {
			t.Errorf("after Close, container %s still answers %d %s", c.ID(), status, body)
		}
	}
}
