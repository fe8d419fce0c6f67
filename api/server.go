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
	"github.com/wispio/wisp/apigw"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/metrics"
	"github.com/wispio/wisp/routing"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/version"
)

// Config configures the API.
type Config struct {
	Limits entity.SystemLimits
	Kinds  *actions.Kinds
	// BlockingWait is how long a blocking invoke waits before answering 202.
	BlockingWait time.Duration
	// AuthCacheTTL is how long a verified key is trusted without the store.
	AuthCacheTTL time.Duration
	// Build and BuildNo are reported by GET /api/v1 (OpenWhisk's fields):
	// by default the version and the commit of this binary.
	Build, BuildNo string
	// Version is this binary's build, reported by GET /api/v1 as "wisp".
	Version version.Info
	// PublicURL is the base URL of the API gateway URLs and web action
	// URLs that API definitions answer with; empty: the request's scheme
	// and host.
	PublicURL string
}

// DefaultConfig returns OpenWhisk's defaults.
func DefaultConfig() Config {
	build := version.Get()
	return Config{
		Limits:       entity.DefaultSystemLimits(),
		Kinds:        actions.DefaultKinds(),
		BlockingWait: 60 * time.Second,
		AuthCacheTTL: time.Minute,
		Build:        build.Version,
		BuildNo:      build.Commit,
		Version:      build,
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
	hub       *ActivationHub // nil: no activation stream
	metrics   *metrics.Metrics
	apis      *apigw.Repo    // the API gateway's definitions
	limiter   *apigw.Limiter // the APIs' rate limits
	// mux holds the routes, each a *route: any other handler it finds is
	// its own redirect, 404 or 405, which ServeHTTP answers instead.
	mux *http.ServeMux
}

// New returns the API over st, starting activations through activator.
func New(cfg Config, st store.Store, activator *routing.Activator, log *slog.Logger) *Server {
	s := &Server{cfg: cfg, store: st, activator: activator, auth: newAuthenticator(st, cfg.AuthCacheTTL), log: log, mux: http.NewServeMux(),
		apis: apigw.NewRepo(st), limiter: apigw.NewLimiter(nil)}
	s.triggers = routing.NewTriggers(st, routing.NewRuleIndex(), activator.Resolver().CheckRuleAction, cfg.Limits)
	s.firer = routing.NewFirer(s.triggers.Index(), activator, st, log)
	s.routes()
	return s
}

func (s *Server) routes() {
	s.route("GET /api/v1", s.info)
	s.route("GET /api/v1/{$}", s.info)
	s.route("GET /{$}", s.info)
	s.handle("GET /api/v1/namespaces", s.listNamespaces)
	s.handle("GET /api/v1/namespaces/{ns}/actions", s.listActions)
	s.handle("GET /api/v1/namespaces/{ns}/actions/{$}", s.listActions)
	s.handle("GET /api/v1/namespaces/{ns}/actions/{name...}", s.getAction)
	s.handle("PUT /api/v1/namespaces/{ns}/actions/{name...}", s.putAction)
	s.handle("DELETE /api/v1/namespaces/{ns}/actions/{name...}", s.deleteAction)
	s.handle("POST /api/v1/namespaces/{ns}/actions/{name...}", s.invokeAction)
	s.packageRoutes()
	s.webRoutes()
	s.apigwRoutes()
	s.handle("GET /api/v1/namespaces/{ns}/triggers", s.listTriggers)
	s.handle("GET /api/v1/namespaces/{ns}/triggers/{$}", s.listTriggers)
	s.handle("GET /api/v1/namespaces/{ns}/triggers/{name}", s.getTrigger)
	s.handle("PUT /api/v1/namespaces/{ns}/triggers/{name}", s.putTrigger)
	s.handle("DELETE /api/v1/namespaces/{ns}/triggers/{name}", s.deleteTrigger)
	s.handle("POST /api/v1/namespaces/{ns}/triggers/{name}", s.fireTrigger)
	s.handle("POST /api/v1/namespaces/{ns}/triggers/{name}/replay", s.replayTrigger)
	s.handle("GET /api/v1/namespaces/{ns}/rules", s.listRules)
	s.handle("GET /api/v1/namespaces/{ns}/rules/{$}", s.listRules)
	s.handle("GET /api/v1/namespaces/{ns}/rules/{name}", s.getRule)
	s.handle("PUT /api/v1/namespaces/{ns}/rules/{name}", s.putRule)
	s.handle("DELETE /api/v1/namespaces/{ns}/rules/{name}", s.deleteRule)
	s.handle("POST /api/v1/namespaces/{ns}/rules/{name}", s.setRuleStatus)
	s.handle("GET /api/v1/namespaces/{ns}/activations", s.listActivations)
	s.handle("GET /api/v1/namespaces/{ns}/activations/stream", s.streamActivations)
	s.handle("GET /api/v1/namespaces/{ns}/activations/{id}", s.getActivation)
	s.handle("GET /api/v1/namespaces/{ns}/activations/{id}/logs", s.getActivationLogs)
	s.handle("GET /api/v1/namespaces/{ns}/activations/{id}/result", s.getActivationResult)
	s.handle("GET /api/v1/namespaces/{ns}/metrics", s.namespaceMetrics)
}

// route is a handler of the API's own, told apart from the mux's redirects
// and errors by its type.
type route struct{ http.HandlerFunc }

// route registers h on the mux under pattern.
func (s *Server) route(pattern string, h http.HandlerFunc) {
	s.mux.Handle(pattern, &route{h})
}

// routed reports whether r reaches one of the API's routes as it is (no
// redirect, no mux error).
func (s *Server) routed(r *http.Request) bool {
	h, _ := s.mux.Handler(r)
	_, ok := h.(*route)
	return ok
}

// authedHandler is a handler that knows its caller.
type authedHandler func(w http.ResponseWriter, r *http.Request, id identity) error

// handle registers an authenticated handler; its error goes to writeError.
func (s *Server) handle(pattern string, h authedHandler) {
	s.route(pattern, func(w http.ResponseWriter, r *http.Request) {
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

// ServeHTTP gives each request a transaction id (the "code" of error bodies)
// and routes it. A path that is not canonical answers 400, a path no route
// serves 404, and a method a route does not serve 405 with an Allow header,
// all with OpenWhisk's error body (never the mux's redirects or text).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tx := newTransactionID()
	w.Header().Set("X-Request-ID", tx)
	r = r.WithContext(context.WithValue(r.Context(), txKey{}, tx))
	CanonicalPaths(http.HandlerFunc(s.serveRouted)).ServeHTTP(w, r)
}

func (s *Server) serveRouted(w http.ResponseWriter, r *http.Request) {
	if id, rest, ok := gatewayPath(r.URL.EscapedPath()); ok {
		s.serveGateway(w, r, id, rest)
		return
	}
	if !s.routed(r) {
		s.serveUnrouted(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
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
