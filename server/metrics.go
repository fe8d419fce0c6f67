package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/metrics"
	"github.com/wispio/wisp/routing"
	"github.com/wispio/wisp/store/writebehind"
)

// watchPool exports the invoker's container pool to the metrics.
func (s *Server) watchPool() {
	pool := s.invoker.Pool()
	s.metrics.WatchPool(s.invokerID(), func() metrics.PoolStats {
		st := pool.Stats()
		kinds := make(map[string]metrics.KindStats, len(st.Kinds))
		for kind, k := range st.Kinds {
			kinds[kind] = metrics.KindStats(k)
		}
		return metrics.PoolStats{Containers: st.Containers, Busy: st.Busy, Paused: st.Paused, StemCells: st.StemCells, UsedMB: st.UsedMB, Kinds: kinds}
	})
}

// triggerSink writes trigger activations to the store and records each
// written in the metrics (a failed write is redelivered, counted then).
type triggerSink struct {
	routing.DurableSink
	metrics *metrics.Metrics
}

func (t triggerSink) WriteActivations(ctx context.Context, acts []*entity.Activation) error {
	if err := t.DurableSink.WriteActivations(ctx, acts); err != nil {
		return err
	}
	for _, act := range acts {
		t.metrics.ObserveTriggerActivation(act)
	}
	return nil
}

// firerSink is the Firer's sink: the store, with the trigger activations
// the Firer writes itself (fires no rule filter passed, routing's
// recordFilteredOut) counted in the metrics as triggerSink counts the
// others.
type firerSink struct {
	*writebehind.Store
	metrics *metrics.Metrics
}

func (f firerSink) PutActivations(ctx context.Context, acts []*entity.Activation) error {
	if err := f.Store.PutActivations(ctx, acts); err != nil {
		return err
	}
	for _, act := range acts {
		f.metrics.ObserveTriggerActivation(act)
	}
	return nil
}

// serveMetrics serves GET /metrics, without auth unless
// Config.MetricsTokenFile is set: on mux (the API's address), or on
// Config.MetricsAddr when set; nowhere with Config.NoMetrics.
func (s *Server) serveMetrics(mux *http.ServeMux) error {
	if s.metrics == nil {
		return nil // Config.NoMetrics
	}
	handler, err := s.metricsHandler()
	if err != nil {
		return err
	}
	if s.cfg.MetricsAddr == "" {
		mux.Handle("GET /metrics", handler)
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("metrics-addr: listen on %s: %w", s.cfg.MetricsAddr, err)
	}
	own := http.NewServeMux()
	own.Handle("GET /metrics", handler)
	s.metricsHTTP, err = s.cfg.HTTP.newServer(own, s.cfg.API.BlockingWait)
	if err != nil {
		_ = ln.Close()
		return err
	}
	s.metricsAddr = ln.Addr().String()
	go func() {
		if err := s.metricsHTTP.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			select {
			case s.errs <- fmt.Errorf("serve metrics: %w", err):
			default: // the server is failing already
			}
		}
	}()
	s.log.Info("metrics are served", "addr", s.metricsAddr)
	return nil
}

// MetricsAddr is the address GET /metrics is served on.
func (s *Server) MetricsAddr() string {
	if s.metricsHTTP == nil {
		return s.Addr()
	}
	return s.metricsAddr
}

// Metrics is the process's metrics.
func (s *Server) Metrics() *metrics.Metrics { return s.metrics }

// metricsHandler is the metrics' handler, behind the bearer token of
// Config.MetricsTokenFile when it is set.
func (s *Server) metricsHandler() (http.Handler, error) {
	h := s.metrics.Handler()
	if s.cfg.MetricsTokenFile == "" {
		return h, nil
	}
	raw, err := os.ReadFile(s.cfg.MetricsTokenFile)
	if err != nil {
		return nil, fmt.Errorf("metrics-token-file: %w", err)
	}
	token := strings.TrimSpace(string(raw))
	if token == "" {
		return nil, fmt.Errorf("metrics-token-file: %s is empty", s.cfg.MetricsTokenFile)
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"GET /metrics requires the metrics bearer token (Authorization: Bearer ...)","code":""}`+"\n")
			return
		}
		h.ServeHTTP(w, r)
	}), nil
}
