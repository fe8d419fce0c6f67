package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/invoker"
	"github.com/wispio/wisp/server"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/throttle"
)

// runCluster measures the cluster paths: the NATS hop against the
// in-process bus (one process, all roles, warm blocking invokes), then
// no-op activations per second through one controller with 1 and with 3
// invokers on the process backend, over NATS with CouchDB as the store.
func runCluster(ctx context.Context, n int, natsURL, couchURL string, w io.Writer) error {
	if natsURL == "" || couchURL == "" {
		return fmt.Errorf("-cluster needs -nats and -couchdb (or $WISP_TEST_NATS and $WISP_TEST_COUCHDB)")
	}
	dir, err := os.MkdirTemp("", "wisp-bench-cluster-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	run := fmt.Sprintf("b%d", time.Now().UnixNano())

	local, err := startStack(ctx, dir+"/local", "process", "", nil)
	if err != nil {
		return err
	}
	defer local.close()
	overNATS, err := startStack(ctx, dir+"/nats", "process", "", func(c *server.Config) {
		c.Cluster.BusURL, c.Cluster.BusPrefix, c.Cluster.ID = natsURL, run+"hop", "hop"
	})
	if err != nil {
		return err
	}
	defer overNATS.close()
	viaNATS, inProcess, err := interleave(ctx, n, overNATS.viaAPI, local.viaAPI)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "bus: NATS JetStream (invocation, completion and health on streams) vs the in-process bus, one process, embedded store")
	report(w, "warm blocking invoke over NATS vs in-process (the 'direct' column)", viaNATS, inProcess)

	rates := map[int]float64{}
	for _, k := range []int{1, 3} {
		r, err := clusterRate(ctx, dir, fmt.Sprintf("%s%d", run, k), natsURL, couchURL, k, 4*n, w)
		if err != nil {
			return fmt.Errorf("%d invokers: %w", k, err)
		}
		rates[k] = r
	}
	fmt.Fprintf(w, "no-op activations per second (blocking, 64 callers, process backend, NATS + CouchDB): 1 invoker %.0f/s, 3 invokers %.0f/s, ratio %.2fx\n",
		rates[1], rates[3], rates[3]/rates[1])
	return nil
}

// clusterRate starts a controller and k invokers (as servers in this
// process) and measures blocking no-op activations per second.
func clusterRate(ctx context.Context, dir, prefix, natsURL, couchURL string, k, total int, w io.Writer) (float64, error) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	base := func(id string, roles server.Roles) server.Config {
		cfg := server.DefaultConfig()
		cfg.Addr, cfg.DataDir, cfg.Invoker = "127.0.0.1:0", dir+"/"+prefix+id, server.BackendProcess
		cfg.StoreURL = couchURL + "/?prefix=" + prefix + "_"
		cfg.Pool.StemCells, cfg.Pool.PauseGrace = nil, time.Hour
		cfg.Throttles = throttle.Limits{}
		cfg.Cluster.Roles, cfg.Cluster.BusURL, cfg.Cluster.BusPrefix, cfg.Cluster.ID = roles, natsURL, prefix, id
		return cfg
	}
	creds := entity.NewCredentials()
	ctrl, err := server.Start(ctx, base("c", server.Roles{Controller: true}), log, func(ctx context.Context, st store.Store) error {
		return st.CreateSubject(ctx, entity.Subject{Namespace: "bench", UUID: creds.UUID, KeyHash: entity.HashKey(creds.Key)})
	})
	if err != nil {
		return 0, err
	}
	defer closeServer(ctrl)
	for i := range k {
		inv, err := server.Start(ctx, base(fmt.Sprintf("i%d", i), server.Roles{Invoker: true}), log, nil)
		if err != nil {
			return 0, err
		}
		defer closeServer(inv)
	}
	for deadline := time.Now().Add(30 * time.Second); len(ctrl.Invokers()) < k; {
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("the controller sees %d of %d invokers", len(ctrl.Invokers()), k)
		}
		time.Sleep(50 * time.Millisecond)
	}
	s := &stack{http: invoker.NewHTTPClient(), auth: creds.String(),
		invokeURL: "http://" + ctrl.Addr() + "/api/v1/namespaces/_/actions/noop?blocking=true&result=true"}
	put, _ := json.Marshal(map[string]any{"exec": map[string]string{"kind": "nodejs:20", "code": noopJS}, "limits": map[string]int{"memory": 128}})
	if _, err := s.do(ctx, http.MethodPut, "http://"+ctrl.Addr()+"/api/v1/namespaces/_/actions/noop", put, true); err != nil {
		return 0, fmt.Errorf("create action: %w", err)
	}
	const callers = 64
	burst := func(calls int) (time.Duration, error) {
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, callers)
		start := time.Now()
		for range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= int64(calls) {
					if err := s.viaAPI(ctx); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		return time.Since(start), <-errs
	}
	if _, err := burst(callers * 4); err != nil { // containers up on every invoker
		return 0, err
	}
	took, err := burst(total)
	if err != nil {
		return 0, err
	}
	return float64(total) / took.Seconds(), nil
}

func closeServer(s *server.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = s.Close(ctx)
}
