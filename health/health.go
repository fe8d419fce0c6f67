package health

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Check is one readiness check: Run returns nil when the part it names
// answers.
type Check struct {
	// Name names the part ("store", "bus", "docker", "feeds").
	Name string
	// Run checks the part; it must return once ctx ends.
	Run func(ctx context.Context) error
}

// Checker runs a process's readiness checks. Its checks are fixed at New.
type Checker struct {
	checks  []Check
	timeout time.Duration
}

// New returns a Checker over checks, each given at most timeout per probe.
func New(timeout time.Duration, checks ...Check) *Checker {
	return &Checker{checks: checks, timeout: timeout}
}

// Result is one check's outcome in the /readyz body.
type Result struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// Check runs every check at once and returns their results by name, and an
// error naming each that failed, nil when all answered.
func (c *Checker) Check(ctx context.Context) (map[string]Result, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	results := make(map[string]Result, len(c.checks))
	var mu sync.Mutex // guards results
	var wg sync.WaitGroup
	for _, ch := range c.checks {
		wg.Go(func() {
			err := run(ctx, ch)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				results[ch.Name] = Result{Error: err.Error()}
			} else {
				results[ch.Name] = Result{OK: true}
			}
		})
	}
	wg.Wait()
	var failed []string
	for name, r := range results {
		if !r.OK {
			failed = append(failed, name+": "+r.Error)
		}
	}
	if len(failed) == 0 {
		return results, nil
	}
	sort.Strings(failed)
	return results, fmt.Errorf("not ready: %s", strings.Join(failed, "; "))
}

// run runs one check, giving up when ctx ends even if the check does not.
func run(ctx context.Context, ch Check) error {
	done := make(chan error, 1)
	go func() { done <- ch.Run(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("no answer: %w", ctx.Err())
	}
}

// Live answers GET /healthz: 200 "ok", whatever the checks say.
func Live(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "ok")
}

// Ready answers GET /readyz: 200 with every check's result when all
// answer, else 503 with OpenWhisk's error body ("error" names the failed
// checks and why) and the results under "checks".
func (c *Checker) Ready(w http.ResponseWriter, r *http.Request) {
	results, err := c.Check(r.Context())
	body := map[string]any{"status": "ok", "checks": results}
	status := http.StatusOK
	if err != nil {
		status = http.StatusServiceUnavailable
		body = map[string]any{"error": err.Error(), "code": "not-ready", "status": "unavailable", "checks": results}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// Register serves GET /healthz and GET /readyz on mux.
func (c *Checker) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", Live)
	mux.HandleFunc("GET /readyz", c.Ready)
}
