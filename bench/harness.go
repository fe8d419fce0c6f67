package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	dclient "github.com/docker/docker/client"

	"github.com/wispio/wisp/actions/proxy"
	_ "github.com/wispio/wisp/connectors/all" // the shipped connectors, as wisp serve runs them
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/invoker"
	"github.com/wispio/wisp/server"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/throttle"
	"github.com/wispio/wisp/tracing"
)

// noopJS is the action measured: it does no work of its own.
const noopJS = `function main(p) { return {ok: true} }`

// stack is a running Wisp with one warm no-op action.
type stack struct {
	srv       *server.Server
	tracer    *tracing.Provider // as wisp serve makes it: from OTEL_EXPORTER_OTLP_*
	http      *http.Client
	invokeURL string
	auth      string
	directURL string
	// directSecret is the warm container's proxy secret, sent with directURL.
	directSecret string
	runBody      []byte
}

// startStack starts Wisp in dir on the given invoker backend and warms the
// no-op action. wispBin is the wisp binary for runtime images (Docker).
func startStack(ctx context.Context, dir, backend, wispBin string, tweak func(*server.Config)) (*stack, error) {
	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = dir
	cfg.Invoker = backend
	if backend == "docker-sockets" {
		cfg.Invoker, cfg.DockerSockets = server.BackendDocker, true
	}
	cfg.ProxyBinary = wispBin
	if strings.HasPrefix(backend, "docker") {
		cfg.API.Kinds = benchKinds(wispBin)
	}
	// Keep the container warm between phases: pausing is not on the path
	// measured here.
	cfg.Pool.PauseGrace = time.Hour
	cfg.Pool.StemCells = nil
	cfg.Pool.StemDemand.Max = 0 // fixed stem cell counts, for a quiet engine between samples
	// The benchmarks invoke thousands of times a minute: no throttles.
	cfg.Throttles = throttle.Limits{}
	tp, err := tracing.New(ctx, os.Getenv, "wisp-bench")
	if err != nil {
		return nil, err
	}
	cfg.Tracer = tp.TracerProvider
	if tweak != nil {
		tweak(&cfg)
	}
	creds := entity.NewCredentials()
	var logw io.Writer = io.Discard
	if os.Getenv("WISP_BENCH_LOG") != "" {
		logw = os.Stderr
	}
	level := slog.LevelWarn
	if os.Getenv("WISP_BENCH_LOG") == "debug" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: level}))
	srv, err := server.Start(ctx, cfg, log, func(ctx context.Context, st store.Store) error {
		return st.CreateSubject(ctx, entity.Subject{Namespace: "bench", UUID: creds.UUID, KeyHash: entity.HashKey(creds.Key)})
	})
	if err != nil {
		return nil, err
	}
	s := &stack{
		srv:       srv,
		tracer:    tp,
		http:      invoker.NewHTTPClient(), // the direct path may be a unix socket
		invokeURL: "http://" + srv.Addr() + "/api/v1/namespaces/_/actions/noop?blocking=true&result=true",
		auth:      creds.String(),
	}
	put, _ := json.Marshal(map[string]any{"exec": map[string]string{"kind": "nodejs:20", "code": noopJS}})
	if _, err := s.do(ctx, http.MethodPut, "http://"+srv.Addr()+"/api/v1/namespaces/_/actions/noop", put, true); err != nil {
		return nil, fmt.Errorf("create action: %w", err)
	}
	// Over a shared bus the controller learns of the invoker from its
	// first health ping: retry until then.
	for deadline := time.Now().Add(10 * time.Second); ; {
		_, err := s.do(ctx, http.MethodPost, s.invokeURL, []byte(`{}`), true)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("warm action: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cs := srv.Invoker().Pool().Containers()
	if len(cs) != 1 {
		return nil, fmt.Errorf("want one warm container, have %d", len(cs))
	}
	s.directURL, s.directSecret = cs[0].URL+"/run", cs[0].Secret
	s.runBody, _ = json.Marshal(map[string]any{
		"value": map[string]any{}, "namespace": "bench", "action_name": "/bench/noop",
		"activation_id": entity.NewActivationID(), "transaction_id": "bench", "deadline": "0", "action_version": "0.0.1",
	})
	return s, nil
}

func (s *stack) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := s.srv.Close(ctx)
	if terr := s.tracer.Shutdown(ctx); err == nil {
		err = terr
	}
	return err
}

// do sends one request and checks for a 200.
func (s *stack) do(ctx context.Context, method, url string, body []byte, auth bool) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if url == s.directURL && s.directSecret != "" {
		req.Header.Set(proxy.SecretHeader, s.directSecret)
	}
	if auth {
		u, k, _ := strings.Cut(s.auth, ":")
		req.SetBasicAuth(u, k)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	return b, nil
}

// viaAPI is one warm blocking invoke through the REST API.
func (s *stack) viaAPI(ctx context.Context) error {
	_, err := s.do(ctx, http.MethodPost, s.invokeURL, []byte(`{}`), true)
	return err
}

// direct is one POST /run straight to the warm container.
func (s *stack) direct(ctx context.Context) error {
	_, err := s.do(ctx, http.MethodPost, s.directURL, s.runBody, false)
	return err
}

// sample times n calls of fn.
func sample(ctx context.Context, n int, fn func(context.Context) error) ([]time.Duration, error) {
	out := make([]time.Duration, 0, n)
	for range n {
		t0 := time.Now()
		if err := fn(ctx); err != nil {
			return nil, err
		}
		out = append(out, time.Since(t0))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// interleave times n calls of each of a and b in four alternating rounds,
// so that drift in the machine's load hits both alike, and returns both
// samples sorted.
func interleave(ctx context.Context, n int, a, b func(context.Context) error) (as, bs []time.Duration, err error) {
	for range 4 {
		x, err := sample(ctx, n/4, a)
		if err != nil {
			return nil, nil, err
		}
		y, err := sample(ctx, n/4, b)
		if err != nil {
			return nil, nil, err
		}
		as, bs = append(as, x...), append(bs, y...)
	}
	sortDurations(as)
	sortDurations(bs)
	return as, bs, nil
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

// report prints one comparison row set.
func report(w io.Writer, name string, wisp, raw []time.Duration) {
	fmt.Fprintf(w, "%s (n=%d)\n", name, len(wisp))
	fmt.Fprintf(w, "  %-6s %12s %12s %10s %12s\n", "", "wisp", "direct", "ratio", "overhead")
	for _, p := range []struct {
		label string
		q     float64
	}{{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}} {
		a, b := percentile(wisp, p.q), percentile(raw, p.q)
		fmt.Fprintf(w, "  %-6s %12s %12s %9.2fx %12s\n", p.label, a.Round(time.Microsecond), b.Round(time.Microsecond), float64(a)/float64(b), (a - b).Round(time.Microsecond))
	}
}

// run measures every scenario on one backend and prints the table.
func run(ctx context.Context, n int, backend, wispBin string, w io.Writer) error {
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
	if err := runWarm(ctx, n, dir, backend, wispBin, w); err != nil {
		return err
	}
	if !strings.HasPrefix(backend, "docker") {
		return nil
	}
	return runDocker(ctx, max(n/50, 5), backend, wispBin, w)
}

// runPools runs only runDocker's rows, n samples each.
func runPools(ctx context.Context, n int, backend, wispBin string, w io.Writer) error {
	if !strings.HasPrefix(backend, "docker") {
		return fmt.Errorf("-pools needs -invoker docker or docker-sockets, not %s", backend)
	}
	api, err := dclient.NewClientWithOpts(dclient.FromEnv, dclient.WithAPIVersionNegotiation())
	if err != nil {
		return err
	}
	defer api.Close()
	defer removeBenchImages(context.WithoutCancel(ctx), api, wispBin)
	fmt.Fprintf(w, "invoker backend: %s\n", backend)
	return runDocker(ctx, n, backend, wispBin, w)
}

// runWarm measures the warm invoke against a POST /run to the same
// container.
func runWarm(ctx context.Context, n int, dir, backend, wispBin string, w io.Writer) error {
	s, err := startStack(ctx, dir, backend, wispBin, nil)
	if err != nil {
		return err
	}
	defer s.close()
	fmt.Fprintf(w, "invoker backend: %s\n", backend)
	// Warm both paths' connections, then interleave the phases so that
	// drift in machine load hits both alike.
	if _, err := sample(ctx, 200, s.viaAPI); err != nil {
		return err
	}
	if _, err := sample(ctx, 200, s.direct); err != nil {
		return err
	}
	wisp, raw, err := interleave(ctx, n, s.viaAPI, s.direct)
	if err != nil {
		return err
	}
	report(w, "warm blocking invoke (REST API, result=true) vs POST /run to the same warm proxy", wisp, raw)
	return nil
}
