package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	dclient "github.com/docker/docker/client"
)

// concurrencyLevels are the numbers of concurrent callers of the
// throughput table.
var concurrencyLevels = []int{1, 4, 16, 64}

// runThroughput measures warm blocking invokes per second at each of
// concurrencyLevels against POSTs /run to the same warm container (the
// action takes 64 activations at once, so that both paths share one
// container), then non-blocking invokes per second from nonBlockingCallers callers: each
// answered 202 only once its invocation is fsynced, and the time until
// every record is readable. n is the calls per path and level (at least 20
// per caller).
func runThroughput(ctx context.Context, n int, backend, wispBin string, w io.Writer) error {
	dir, err := os.MkdirTemp("", "wisp-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if strings.HasPrefix(backend, "docker") {
		api, err := dclient.NewClientWithOpts(dclient.FromEnv, dclient.WithAPIVersionNegotiation())
		if err != nil {
			return err
		}
		defer api.Close()
		defer removeBenchImages(context.WithoutCancel(ctx), api, wispBin)
	}
	s, err := startStack(ctx, dir, backend, wispBin, nil)
	if err != nil {
		return err
	}
	defer s.close()
	if err := s.concurrentAction(ctx, slices.Max(concurrencyLevels)); err != nil {
		return err
	}
	fmt.Fprintf(w, "invoker backend: %s\n", backend)
	fmt.Fprintf(w, "warm blocking invokes per second (REST API, result=true) vs POST /run to the same warm proxy, by concurrent callers\n")
	fmt.Fprintf(w, "  %-8s %12s %12s %8s\n", "callers", "wisp/s", "direct/s", "ratio")
	for _, c := range concurrencyLevels {
		calls := max(n, 20*c)
		// Two alternating rounds each, so that drift in the machine's
		// load hits both paths alike.
		var wispRate, directRate rate
		for range 2 {
			if err := wispRate.add(ctx, c, calls/2, s.viaAPI); err != nil {
				return err
			}
			if err := directRate.add(ctx, c, calls/2, s.direct); err != nil {
				return err
			}
		}
		a, b := wispRate.perSecond(), directRate.perSecond()
		fmt.Fprintf(w, "  %-8d %12.0f %12.0f %7.2fx\n", c, a, b, a/b)
	}
	return s.nonBlocking(ctx, max(n, 4000), nonBlockingCallers, w)
}

// nonBlockingCallers is how many callers send the non-blocking invokes:
// enough that a commit of the queue file (two fsyncs) carries many.
const nonBlockingCallers = 256

// rate sums calls and the time they took.
type rate struct {
	calls   int
	elapsed time.Duration
}

// add runs calls calls of fn from c concurrent callers.
func (r *rate) add(ctx context.Context, c, calls int, fn func(context.Context) error) error {
	t0 := time.Now()
	if err := fanOut(ctx, c, calls, func(ctx context.Context, _ int) error { return fn(ctx) }); err != nil {
		return err
	}
	r.calls += calls
	r.elapsed += time.Since(t0)
	return nil
}

func (r *rate) perSecond() float64 { return float64(r.calls) / r.elapsed.Seconds() }

// fanOut makes calls calls of fn (with the call's index) from c
// goroutines; the first error stops them all.
func fanOut(ctx context.Context, c, calls int, fn func(context.Context, int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, c)
	for g := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < calls && ctx.Err() == nil; i = int(next.Add(1)) - 1 {
				if err := fn(ctx, i); err != nil {
					errs[g] = err
					cancel()
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// concurrentAction replaces the no-op action with one that runs up to
// conc activations at once in one container, warms it and points the
// direct path at that container.
func (s *stack) concurrentAction(ctx context.Context, conc int) error {
	pool := s.srv.Invoker().Pool()
	old := map[string]bool{}
	for _, c := range pool.Containers() {
		old[c.ID] = true
	}
	put, _ := json.Marshal(map[string]any{
		"exec":   map[string]string{"kind": "nodejs:20", "code": noopJS},
		"limits": map[string]int{"concurrency": conc},
	})
	if _, err := s.do(ctx, http.MethodPut, "http://"+s.srv.Addr()+"/api/v1/namespaces/_/actions/noop?overwrite=true", put, true); err != nil {
		return fmt.Errorf("update action: %w", err)
	}
	if err := s.viaAPI(ctx); err != nil {
		return fmt.Errorf("warm action: %w", err)
	}
	for _, c := range pool.Containers() {
		if !old[c.ID] {
			s.directURL, s.directSecret = c.URL+"/run", c.Secret
			return nil
		}
	}
	return errors.New("no container for the updated action")
}

// nonBlocking sends calls non-blocking invokes from c callers and prints
// how many per second were accepted (202: the invocation is on disk) and
// how many per second completed (until every record is readable).
func (s *stack) nonBlocking(ctx context.Context, calls, c int, w io.Writer) error {
	url := strings.Replace(s.invokeURL, "?blocking=true&result=true", "", 1)
	ids := make([]string, calls)
	// A connection per caller, kept.
	hc := &http.Client{Transport: &http.Transport{MaxIdleConns: c, MaxIdleConnsPerHost: c}}
	defer hc.CloseIdleConnections()
	// Warm the callers' connections.
	if err := fanOut(ctx, c, c, func(ctx context.Context, _ int) error {
		_, err := s.accepted(ctx, hc, url)
		return err
	}); err != nil {
		return err
	}
	t0 := time.Now()
	err := fanOut(ctx, c, calls, func(ctx context.Context, i int) error {
		id, err := s.accepted(ctx, hc, url)
		ids[i] = id
		return err
	})
	if err != nil {
		return err
	}
	accepted := time.Since(t0)
	st := s.srv.Store()
	for _, id := range ids {
		for {
			if _, err := st.GetActivation(ctx, "bench", id); err == nil {
				break
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			time.Sleep(time.Millisecond)
		}
	}
	completed := time.Since(t0)
	fmt.Fprintf(w, "non-blocking invokes (n=%d, %d callers, fsync on): %.0f accepted/s (202 once durable), %.0f completed/s (every record readable)\n",
		calls, c, float64(calls)/accepted.Seconds(), float64(calls)/completed.Seconds())
	return nil
}

// accepted POSTs a non-blocking invoke and returns its activation id; the
// answer must be 202.
func (s *stack) accepted(ctx context.Context, hc *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader([]byte(`{}`)))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	u, k, _ := strings.Cut(s.auth, ":")
	req.SetBasicAuth(u, k)
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct {
		ActivationID string `json:"activationId"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusAccepted {
		return "", fmt.Errorf("non-blocking invoke: %d %v", resp.StatusCode, err)
	}
	return body.ActivationID, nil
}
