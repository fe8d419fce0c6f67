package main

import (
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
	// The pause grace outlasts one warm invoke, so that the warm sample
	// taken right after each resume finds the container still running.
	s, err := startStack(ctx, dir, backend, wispBin, func(cfg *server.Config) { cfg.Pool.PauseGrace = 30 * time.Millisecond })
	if err != nil {
		return err
	}
	wispResume, rawResume, wispWarm, rawWarm, err := resumeSamples(ctx, s, api, n)
	s.close()
	if err != nil {
		return err
	}
	report(w, "resume from paused: invoke of a paused action vs cgroup thaw + POST /run", wispResume, rawResume)
	report(w, "  the same container running: warm invoke vs POST /run, taken right after each resume", wispWarm, rawWarm)
	fmt.Fprintf(w, "  resume's own cost (p50 resume - p50 warm): wisp %s, raw %s\n",
		(percentile(wispResume, 0.5) - percentile(wispWarm, 0.5)).Round(time.Microsecond),
		(percentile(rawResume, 0.5) - percentile(rawWarm, 0.5)).Round(time.Microsecond))

	// Cold start, and stem cell hits, each on its own server. The cold
	// start alternates with the raw engine path, once with the container
	// Wisp makes (its network, mounts and limits) and once with a minimal
	// one, so that drift in the machine's load hits all three alike.
	img := benchImage(wispBin, "wisp/action-nodejs-v20")
	sameRaw := rawCold{api: api, img: img, wispConfig: true, sockets: backend == "docker-sockets", dir: dir}
	minimalRaw := rawCold{api: api, img: img}
	var cold, raw, rawMinimal, hits, pyHits []time.Duration
	for _, run := range []struct {
		kind  string
		stems bool
		out   *[]time.Duration
		raws  []rawPath
	}{
		{"nodejs:20", false, &cold, []rawPath{{sameRaw.sample, &raw}, {minimalRaw.sample, &rawMinimal}}},
		{"nodejs:20", true, &hits, nil},
		{"python:3", true, &pyHits, nil},
	} {
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
		out, err := coldSamples(ctx, s, api, n, run.kind, stems, run.raws)
		s.close()
		if err != nil {
			return err
		}
		*run.out = out
	}
	for _, r := range [][]time.Duration{raw, rawMinimal} {
		sortDurations(r)
	}
	report(w, "cold start: invoke of a new action revision vs raw engine create + start + first answer + /init + /run of the container Wisp makes (same network, mounts, limits), alternating", cold, raw)
	report(w, "cold start vs the same raw path with a minimal container (default bridge, published port, memory limit only)", cold, rawMinimal)
	fmt.Fprintln(w, "(in the next table, 'direct' is Wisp's own cold start)")
	report(w, "stem cell hit vs cold start", hits, cold)
	report(w, "python:3 stem cell hit vs (nodejs:20) cold start", pyHits, cold)
	return runBurst(ctx, backend, wispBin, w)
}

// resumeSamples alternates an invoke of the paused action with a raw
// cgroup thaw and POST /run of the same container, refrozen after each raw
// sample so that Wisp's view (paused) stays true. Right after each resume
// it also times the same path on the running container (a warm invoke, a
// plain POST /run), which tells resume's own cost from the warm path's.
func resumeSamples(ctx context.Context, s *stack, api *dclient.Client, n int) (wisp, raw, wispWarm, rawWarm []time.Duration, err error) {
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
	timed := func(fn func(context.Context) error) (time.Duration, error) {
		t0 := time.Now()
		err := fn(ctx)
		return time.Since(t0), err
	}
	if err := waitPaused(); err != nil {
		return nil, nil, nil, nil, err
	}
	info, err := api.ContainerInspect(ctx, pool.Containers()[0].ID)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	for range n {
		d, err := timed(s.viaAPI)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		wisp = append(wisp, d)
		if d, err = timed(s.viaAPI); err != nil {
			return nil, nil, nil, nil, err
		}
		wispWarm = append(wispWarm, d)
		if err := waitPaused(); err != nil {
			return nil, nil, nil, nil, err
		}
		if d, err = timed(func(ctx context.Context) error {
			if !docker.Thaw(info.ID) {
				return fmt.Errorf("no cgroup freezer reachable for %s", info.ID[:12])
			}
			return s.direct(ctx)
		}); err != nil {
			return nil, nil, nil, nil, err
		}
		raw = append(raw, d)
		if d, err = timed(s.direct); err != nil {
			return nil, nil, nil, nil, err
		}
		rawWarm = append(rawWarm, d)
		if !docker.Freeze(info.ID) {
			return nil, nil, nil, nil, fmt.Errorf("refreeze %s", info.ID[:12])
		}
	}
	for _, d := range [][]time.Duration{wisp, raw, wispWarm, rawWarm} {
		sortDurations(d)
	}
	return wisp, raw, wispWarm, rawWarm, nil
}

// rawPath is one raw engine path sampled after each of coldSamples'
// invokes, and where its samples go.
type rawPath struct {
	sample func(context.Context) (time.Duration, error)
	out    *[]time.Duration
}

// coldSamples times invokes of fresh action revisions: each update makes
// the next invoke a cold start (or a stem cell hit, once the pool has
// refilled). After each invoke it takes one sample of each raw path.
func coldSamples(ctx context.Context, s *stack, api *dclient.Client, n int, kind string, stems bool, raws []rawPath) ([]time.Duration, error) {
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
		for _, r := range raws {
			d, err := r.sample(ctx)
			if err != nil {
				return nil, err
			}
			*r.out = append(*r.out, d)
		}
	}
	sortDurations(out)
	return out, nil
}

func sortDurations(d []time.Duration) { sort.Slice(d, func(i, j int) bool { return d[i] < d[j] }) }
