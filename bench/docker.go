package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	dclient "github.com/docker/docker/client"
	"github.com/docker/go-connections/nat"

	"github.com/wispio/wisp/invoker"
	"github.com/wispio/wisp/invoker/docker"
	"github.com/wispio/wisp/server"
)

// runDocker measures what only the Docker backend has, n samples each:
// resume from paused against a direct cgroup thaw plus POST /run; a cold
// start against raw engine calls (create, start, first HTTP answer, /init,
// /run); a stem cell hit against a cold start.
func runDocker(ctx context.Context, n int, backend, wispBin string, w io.Writer) error {
	api, err := dclient.NewClientWithOpts(dclient.FromEnv, dclient.WithAPIVersionNegotiation())
	if err != nil {
		return err
	}
	defer api.Close()

	// Resume from paused.
	dir, err := os.MkdirTemp("", "wisp-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	s, err := startStack(ctx, dir, backend, wispBin, func(cfg *server.Config) { cfg.Pool.PauseGrace = time.Millisecond })
	if err != nil {
		return err
	}
	wispResume, rawResume, err := resumeSamples(ctx, s, api, n)
	s.close()
	if err != nil {
		return err
	}
	report(w, "resume from paused: invoke of a paused action vs cgroup thaw + POST /run", wispResume, rawResume)

	// Cold start, and stem cell hits, each on its own server.
	var cold, hits, pyHits []time.Duration
	for _, run := range []struct {
		kind  string
		stems bool
		out   *[]time.Duration
	}{{"nodejs:20", false, &cold}, {"nodejs:20", true, &hits}, {"python:3", true, &pyHits}} {
		stems := run.stems
		dir, err := os.MkdirTemp("", "wisp-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		s, err := startStack(ctx, dir, backend, wispBin, func(cfg *server.Config) {
			// Old revisions' containers go soon, so that memory stays free
			// for the stem cell.
			cfg.Pool.PauseGrace, cfg.Pool.IdleTimeout = 10*time.Millisecond, 50*time.Millisecond
			if stems {
				cfg.Pool.StemCells = []invoker.StemCell{{Kind: run.kind, MemoryMB: 256, Count: 1}}
			}
		})
		if err != nil {
			return err
		}
		out, err := coldSamples(ctx, s, api, n, run.kind, stems)
		s.close()
		if err != nil {
			return err
		}
		*run.out = out
	}
	raw, err := rawColdSamples(ctx, api, benchImage(wispBin, "wisp/action-nodejs-v20"), n)
	if err != nil {
		return err
	}
	report(w, "cold start: invoke of a new action revision vs raw engine create + start + first answer + /init + /run", cold, raw)
	fmt.Fprintln(w, "(in the next table, 'direct' is Wisp's own cold start)")
	report(w, "stem cell hit vs cold start", hits, cold)
	report(w, "python:3 stem cell hit vs (nodejs:20) cold start", pyHits, cold)
	return nil
}

// resumeSamples alternates an invoke of the paused action with a raw
// cgroup thaw and POST /run of the same container, refrozen after each raw
// sample so that Wisp's view (paused) stays true.
func resumeSamples(ctx context.Context, s *stack, api *dclient.Client, n int) (wisp, raw []time.Duration, err error) {
	pool := s.srv.Invoker().Pool()
	waitPaused := func() error {
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Microsecond) {
			if cs := pool.Containers(); len(cs) == 1 && cs[0].Paused {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("the container was not paused")
			}
		}
	}
	if err := waitPaused(); err != nil {
		return nil, nil, err
	}
	info, err := api.ContainerInspect(ctx, pool.Containers()[0].ID)
	if err != nil {
		return nil, nil, err
	}
	for range n {
		t0 := time.Now()
		if err := s.viaAPI(ctx); err != nil {
			return nil, nil, err
		}
		wisp = append(wisp, time.Since(t0))
		if err := waitPaused(); err != nil {
			return nil, nil, err
		}
		t0 = time.Now()
		if !docker.Thaw(info.ID) {
			return nil, nil, fmt.Errorf("no cgroup freezer reachable for %s", info.ID[:12])
		}
		if err := s.direct(ctx); err != nil {
			return nil, nil, err
		}
		raw = append(raw, time.Since(t0))
		if !docker.Freeze(info.ID) {
			return nil, nil, fmt.Errorf("refreeze %s", info.ID[:12])
		}
	}
	sortDurations(wisp)
	sortDurations(raw)
	return wisp, raw, nil
}

// coldSamples times invokes of fresh action revisions: each update makes
// the next invoke a cold start (or a stem cell hit, once the pool has
// refilled).
func coldSamples(ctx context.Context, s *stack, api *dclient.Client, n int, kind string, stems bool) ([]time.Duration, error) {
	pool := s.srv.Invoker().Pool()
	put := "http://" + s.srv.Addr() + "/api/v1/namespaces/_/actions/noop?overwrite=true"
	var out []time.Duration
	for i := range n {
		code := fmt.Sprintf("function main(p) { return {ok: true, v: %d} }", i)
		if kind == "python:3" {
			code = fmt.Sprintf("def main(a):\n    return {'ok': True, 'v': %d}\n", i)
		}
		body, _ := json.Marshal(map[string]any{"exec": map[string]string{"kind": kind, "code": code}})
		if _, err := s.do(ctx, http.MethodPut, put, body, true); err != nil {
			return nil, err
		}
		// Start from a quiet engine, as the raw path does: the previous
		// revision's container removed, the stem cell (if any) refilled.
		want := 0
		if stems {
			want = 1
		}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Millisecond) {
			list, err := api.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", "wisp.invoker="+s.srv.InvokerID()))})
			if err != nil {
				return nil, err
			}
			if len(list) == want && pool.Stats().StemCells == want {
				break
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("the engine did not settle: %d containers, want %d", len(list), want)
			}
		}
		t0 := time.Now()
		if err := s.viaAPI(ctx); err != nil {
			return nil, err
		}
		out = append(out, time.Since(t0))
	}
	sortDurations(out)
	return out, nil
}

// rawColdSamples does by hand what a cold start needs, with the engine API
// and plain HTTP: create and start a container of the runtime image with a
// port on 127.0.0.1, poll until it answers, POST /init and /run.
func rawColdSamples(ctx context.Context, api *dclient.Client, img string, n int) ([]time.Duration, error) {
	hc := &http.Client{Timeout: 5 * time.Second}
	initBody, _ := json.Marshal(map[string]any{"value": map[string]any{"name": "noop", "main": "main", "code": noopJS}})
	runBody := []byte(`{"value": {}}`)
	port := nat.Port("8080/tcp")
	memory := int64(256 << 20)
	var out []time.Duration
	for range n {
		t0 := time.Now()
		created, err := api.ContainerCreate(ctx, &container.Config{Image: img, ExposedPorts: nat.PortSet{port: {}}},
			&container.HostConfig{
				PortBindings: nat.PortMap{port: {{HostIP: "127.0.0.1", HostPort: "0"}}},
				Resources:    container.Resources{Memory: memory, MemorySwap: memory},
			}, nil, nil, "")
		if err != nil {
			return nil, err
		}
		remove := func() {
			_ = api.ContainerRemove(context.Background(), created.ID, container.RemoveOptions{Force: true})
		}
		if err := api.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
			remove()
			return nil, err
		}
		info, err := api.ContainerInspect(ctx, created.ID)
		if err != nil {
			remove()
			return nil, err
		}
		url := "http://127.0.0.1:" + info.NetworkSettings.Ports[port][0].HostPort
		for {
			if resp, err := hc.Get(url + "/"); err == nil {
				resp.Body.Close()
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		for _, call := range []struct {
			path string
			body []byte
		}{{"/init", initBody}, {"/run", runBody}} {
			resp, err := hc.Post(url+call.path, "application/json", bytes.NewReader(call.body))
			if err != nil {
				remove()
				return nil, err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				remove()
				return nil, fmt.Errorf("raw %s: %d", call.path, resp.StatusCode)
			}
		}
		out = append(out, time.Since(t0))
		remove()
	}
	sortDurations(out)
	return out, nil
}

func sortDurations(d []time.Duration) { sort.Slice(d, func(i, j int) bool { return d[i] < d[j] }) }
