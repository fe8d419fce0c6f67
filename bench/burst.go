package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wispio/wisp/invoker"
	"github.com/wispio/wisp/server"
)

// runBurst invokes 20 new nodejs:20 actions at once, twice, on a pool
// whose stem cells follow demand (floor 1, up to 20), and on one with the
// old fixed count (2, demand off), and prints how many of each burst's
// invokes took a stem cell.
func runBurst(ctx context.Context, backend, wispBin string, w io.Writer) error {
	const size = 20
	fmt.Fprintf(w, "burst of %d new actions invoked at once (nodejs:20, 256 MB): stem cell hits, and the invokes' p50 / max\n", size)
	for _, pool := range []struct {
		name  string
		cells []invoker.StemCell
		max   int
	}{
		{"demand-sized stem cells (floor 1, max 20)", []invoker.StemCell{{Kind: "nodejs:20", MemoryMB: 256, Count: 1, Max: size}}, size},
		{"fixed stem cells (2, demand off)", []invoker.StemCell{{Kind: "nodejs:20", MemoryMB: 256, Count: 2}}, 0},
	} {
		dir, err := os.MkdirTemp("", "wisp-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		s, err := startStack(ctx, dir, backend, wispBin, func(cfg *server.Config) {
			cfg.Pool.UserMemoryMB = 4 * size * 256
			cfg.Pool.PauseGrace, cfg.Pool.IdleTimeout = 10*time.Millisecond, time.Minute
			cfg.Pool.StemCells = pool.cells
			cfg.Pool.StemDemand = invoker.DefaultStemDemand()
			cfg.Pool.StemDemand.Max = pool.max
		})
		if err != nil {
			return err
		}
		err = func() error {
			defer s.close()
			for round := 1; round <= 2; round++ {
				// Start each burst from a full pool: the floor at first,
				// what the first burst's demand asks for the second time.
				want := pool.cells[0].Count
				if round == 2 && pool.max > 0 {
					want = pool.max
				}
				if err := waitStems(s, want, 3*time.Minute); err != nil {
					return err
				}
				hits, took, err := burst(ctx, s, round, size)
				if err != nil {
					return err
				}
				sortDurations(took)
				fmt.Fprintf(w, "  %-44s burst %d: %2d/%d stem cell hits  p50 %10s  max %10s\n", pool.name, round, hits, size,
					percentile(took, 0.5).Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond))
			}
			return nil
		}()
		if err != nil {
			return err
		}
	}
	return nil
}

// waitStems waits until the pool holds want ready stem cells.
func waitStems(s *stack, want int, limit time.Duration) error {
	pool := s.srv.Invoker().Pool()
	for deadline := time.Now().Add(limit); pool.Stats().StemCells < want; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			return fmt.Errorf("the pool has %d stem cells after %s, want %d", pool.Stats().StemCells, limit, want)
		}
	}
	return nil
}

// burst creates size new actions, invokes them all at once and returns
// how many took a stem cell (wisp_action_starts_total) and each invoke's
// time.
func burst(ctx context.Context, s *stack, round, size int) (int, []time.Duration, error) {
	base := "http://" + s.srv.Addr() + "/api/v1/namespaces/_/actions/"
	for i := range size {
		code := fmt.Sprintf("function main(p) { return {ok: true, round: %d, i: %d} }", round, i)
		body, _ := json.Marshal(map[string]any{"exec": map[string]string{"kind": "nodejs:20", "code": code}})
		if _, err := s.do(ctx, http.MethodPut, fmt.Sprintf("%sburst-%d-%d?overwrite=true", base, round, i), body, true); err != nil {
			return 0, nil, err
		}
	}
	before, err := stemStarts(ctx, s)
	if err != nil {
		return 0, nil, err
	}
	took := make([]time.Duration, size)
	errs := make([]error, size)
	var wg sync.WaitGroup
	for i := range size {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			_, errs[i] = s.do(ctx, http.MethodPost, fmt.Sprintf("%sburst-%d-%d?blocking=true&result=true", base, round, i), []byte(`{}`), true)
			took[i] = time.Since(t0)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return 0, nil, err
		}
	}
	after, err := stemStarts(ctx, s)
	return after - before, took, err
}

// stemStarts reads wisp_action_starts_total{kind="nodejs:20",start="stem"}
// from GET /metrics.
func stemStarts(ctx context.Context, s *stack) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.srv.Addr()+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "wisp_action_starts_total{") && strings.Contains(line, `kind="nodejs:20"`) && strings.Contains(line, `start="stem"`) {
			f := strings.Fields(line)
			v, err := strconv.ParseFloat(f[len(f)-1], 64)
			return int(v), err
		}
	}
	return 0, sc.Err()
}
