package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/wispio/wisp/actions"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/routing"
	"github.com/wispio/wisp/store"
)

// Config configures the API.
type Config struct {
	Limits entity.SystemLimits
	Kinds  *actions.Kinds
	// BlockingWait is how long a blocking invoke waits before answering 202.
	BlockingWait time.Duration
	// AuthCacheTTL is how long a verified key is trusted without the store.
	AuthCacheTTL time.Duration
	// Build and BuildNo are reported by GET /api/v1.
	Build, BuildNo string
}

// DefaultConfig returns OpenWhisk's defaults.
func DefaultConfig() Config {
	return Config{
		Limits:       entity.DefaultSystemLimits(),
		Kinds:        actions.DefaultKinds(),
		BlockingWait: 60 * time.Second,
		AuthCacheTTL: time.Minute,
		Build:        "dev",
		BuildNo:      "dev",
	}
}

// Server serves the OpenWhisk REST API.
type Server struct {
	cfg       Config
	store     store.Store
	activator *routing.Activator
	triggers  *routing.Triggers // writes triggers and rules, keeps the rule index
	firer     *routing.Firer
	auth      *authenticator
	log       *slog.Logger
	mux       *http.ServeMux
}

// New returns the API over st, starting activations through activator.
func New(cfg Config, st store.Store, activator *routing.Activator, log *slog.Logger) *Server {
	s := &Server{cfg: cfg, store: st, activator: activator, auth: newAuthenticator(st, cfg.AuthCacheTTL), log: log, mux: http.NewServeMux()}
	s.triggers = routing.NewTriggers(st, routing.NewRuleIndex(), activator.Resolver().CheckRuleAction, cfg.Limits)
	s.firer = routing.NewFirer(s.triggers.Index(), activator, st, log)
	s.routes()
	return s
}

func (s *Server) routes() {
	s.mux.HandleFunc("GET /api/v1", s.info)
	s.mux.HandleFunc("GET /api/v1/{$}", s.info)
	s.mux.HandleFunc("GET /{$}", s.info)
	s.handle("GET /api/v1/namespaces", s.listNamespaces)
	s.handle("GET /api/v1/namespaces/{ns}/actions", s.listActions)
	s.handle("GET /api/v1/namespaces/{ns}/actions/{$}", s.listActions)
	s.handle("GET /api/v1/namespaces/{ns}/actions/{name...}", s.getAction)
	s.handle("PUT /api/v1/namespaces/{ns}/actions/{name...}", s.putAction)
	s.handle("DELETE /api/v1/namespaces/{ns}/actions/{name...}", s.deleteAction)
	s.handle("POST /api/v1/namespaces/{ns}/actions/{name...}", s.invokeAction)
	s.packageRoutes()
	s.webRoutes()
	s.handle("GET /api/v1/namespaces/{ns}/triggers", s.listTriggers)
	s.handle("GET /api/v1/namespaces/{ns}/triggers/{$}", s.listTriggers)
	s.handle("GET /api/v1/namespaces/{ns}/triggers/{name}", s.getTrigger)
	s.handle("PUT /api/v1/namespaces/{ns}/triggers/{name}", s.putTrigger)
	s.handle("DELETE /api/v1/namespaces/{ns}/triggers/{name}", s.deleteTrigger)
	s.handle("POST /api/v1/namespaces/{ns}/triggers/{name}", s.fireTrigger)
	s.handle("GET /api/v1/namespaces/{ns}/rules", s.listRules)
	s.handle("GET /api/v1/namespaces/{ns}/rules/{$}", s.listRules)
	s.handle("GET /api/v1/namespaces/{ns}/rules/{name}", s.getRule)
	s.handle("PUT /api/v1/namespaces/{ns}/rules/{name}", s.putRule)
	s.handle("DELETE /api/v1/namespaces/{ns}/rules/{name}", s.deleteRule)
	s.handle("POST /api/v1/namespaces/{ns}/rules/{name}", s.setRuleStatus)
	s.handle("GET /api/v1/namespaces/{ns}/activations", s.listActivations)
	s.handle("GET /api/v1/namespaces/{ns}/activations/{id}", s.getActivation)
	s.handle("GET /api/v1/namespaces/{ns}/activations/{id}/logs", s.getActivationLogs)
	s.handle("GET /api/v1/namespaces/{ns}/activations/{id}/result", s.getActivationResult)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, newError(http.StatusNotFound, msgNotFound))
	})
}

// authedHandler is a handler that knows its caller.
type authedHandler func(w http.ResponseWriter, r *http.Request, id identity) error

// handle registers an authenticated handler; its error goes to writeError.
func (s *Server) handle(pattern string, h authedHandler) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		id, err := s.auth.authenticate(r)
		if err == nil {
			err = h(w, r, id)
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	})
}

type txKey struct{}

// ServeHTTP gives each request a transaction id (the "code" of error bodies).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tx := newTransactionID()
	w.Header().Set("X-Request-ID", tx)
	s.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), txKey{}, tx)))
}

func transactionID(r *http.Request) string {
	tx, _ := r.Context().Value(txKey{}).(string)
	return tx
}

func newTransactionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
