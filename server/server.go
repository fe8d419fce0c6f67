package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"go.opentelemetry.io/otel/trace"

	"github.com/wispio/wisp/api"
	"github.com/wispio/wisp/bus"
	"github.com/wispio/wisp/catalog"
	"github.com/wispio/wisp/connectors/mqtt/broker"
	"github.com/wispio/wisp/console"
	"github.com/wispio/wisp/egress"
	"github.com/wispio/wisp/feeds"
	"github.com/wispio/wisp/invoker"
	"github.com/wispio/wisp/metrics"
	"github.com/wispio/wisp/routing"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/store/bolt"
	"github.com/wispio/wisp/store/writebehind"
	"github.com/wispio/wisp/throttle"
)

// Config configures a single-process Wisp.
type Config struct {
	// Addr is the HTTP listen address (host:port; port 0 picks one).
	Addr string
	// DataDir holds the embedded store and the containers' work folders.
	DataDir string
	// Invoker names the backend: "process", "docker" or "auto" (the
	// default: Docker when an engine answers).
	Invoker string
	// DockerSockets makes the Docker backend reach runtime containers on
	// unix sockets in DataDir/sockets instead of ports published to
	// 127.0.0.1 (no docker-proxy hop).
	DockerSockets bool
	// DockerNetwork is the Docker network of action containers; empty is
	// docker.DefaultNetwork, made at start with inter-container traffic off.
	DockerNetwork string
	// ProxyBinary is the wisp binary put into runtime images (Docker
	// backend); empty means this executable.
	ProxyBinary string
	// Pool configures the invoker's container pool.
	Pool invoker.PoolConfig
	// API configures the REST API.
	API api.Config
	// Connectors configures the feed connectors (public URL, settings).
	Connectors ConnectorsConfig
	// StoreWait is how long to wait for another process holding the store.
	StoreWait time.Duration
	// MQTT, when not empty, is the listen address (host:port) of the
	// embedded MQTT broker, open to anonymous clients; empty runs none.
	MQTT string
	// StoreURL, when set, names a shared CouchDB store
	// (couchdb://user:pass@host:5984 or http://...) used instead of the
	// embedded one in DataDir.
	StoreURL string
	// StoreCredentialsFile, when set, names a file holding the store's
	// credentials, one line USER:PASSWORD, instead of StoreURL's user
	// information. StorePassword (WISP_STORE_PASSWORD) is instead the
	// password of the user StoreURL names (couchdb://USER@HOST:5984).
	StoreCredentialsFile string
	StorePassword        string
	// Throttles are the namespaces' default limits (0 = unlimited); a
	// namespace's own limits, stored with its subject, win.
	Throttles throttle.Limits
	// ThrottleClock is the throttles' clock; nil is time.Now (tests move
	// it to the next minute).
	ThrottleClock func() time.Time
	// Cluster configures the roles and the bus they meet on.
	Cluster ClusterConfig
	// HTTP bounds the HTTP server's connections (timeouts, header size).
	HTTP HTTPConfig
	// SecretKeyFile names the key that seals the secrets Wisp stores
	// (feed keys and credential parameters); "" is DataDir/secret.key,
	// created at first start. Every feeds node of a cluster needs the same.
	SecretKeyFile string
	// EgressAllow opens these prefixes to the tenants' outbound
	// connections (builtin actions and feeds), which the egress policy
	// otherwise denies on loopback, link-local and private addresses; the
	// store's and the bus's addresses stay denied.
	EgressAllow []netip.Prefix
	// Tracer records the spans of requests, fires and activations (see
	// package tracing); nil records none.
	Tracer trace.TracerProvider
	// MetricsAddr, when set, is a listen address (host:port) of its own for
	// GET /metrics; empty serves it on Addr. Either way without auth.
	MetricsAddr string
	// MetricsTokenFile, when set, names a file holding a bearer token that
	// GET /metrics then requires (Authorization: Bearer <token>; surrounding
	// white space is ignored); empty serves /metrics to anyone.
	MetricsTokenFile string
	// busTap, set by tests only, wraps the bus every message is published
	// on (to read what crosses it).
	busTap func(bus.Bus) bus.Bus
	// NoMetrics records no metrics at all (no GET /metrics, an empty
	// namespace metrics view): the baseline of the observability benchmark
	// (go run ./bench -observability).
	NoMetrics bool
}

// DefaultConfig returns the defaults of `wisp serve`.
func DefaultConfig() Config {
	return Config{
		Addr:      "127.0.0.1:3233",
		Invoker:   BackendAuto,
		Pool:      invoker.DefaultPoolConfig(),
		API:       api.DefaultConfig(),
		StoreWait: time.Second,
		Throttles: throttle.OpenWhiskLimits(),
		Cluster:   DefaultClusterConfig(),
		HTTP:      DefaultHTTPConfig(),
	}
}

// Server is a running single-process Wisp.
type Server struct {
	cfg       Config
	log       *slog.Logger
	store     *writebehind.Store
	router    *message.Router
	invoker   *invoker.Invoker
	activator *routing.Activator
	firer     *routing.Firer
	feeds     *feeds.Manager
	http      *http.Server
	listener  net.Listener
	errs      chan error
	cancel    context.CancelFunc
	mqtt      *broker.Broker // nil without Config.MQTT
	throttle  *throttle.Throttle
	bus       bus.Bus
	nats      *bus.NATS       // the same bus when it is NATS (cluster), else nil
	runCtx    context.Context // ends at Close
	// feedsStarted is true once the feed manager runs (feeds role).
	feedsStarted bool
	// builtins is the feeds node's invoker of builtin actions (durable
	// bus, feeds role).
	builtins *invoker.Invoker
	watcher  *routing.Watcher
	// stopConsume ends the consumption of durable queues.
	stopConsume context.CancelFunc
	// egress is the policy of the tenants' outbound connections.
	egress *egress.Policy
	// metrics is the process's Prometheus registry (GET /metrics).
	metrics *metrics.Metrics
	// metricsHTTP serves /metrics on Config.MetricsAddr (nil without).
	metricsHTTP *http.Server
	metricsAddr string
}

// OpenStore opens the embedded store of a data folder.
func OpenStore(dataDir string, wait time.Duration) (*bolt.Store, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data folder %s: %w", dataDir, err)
	}
	st, err := bolt.Open(filepath.Join(dataDir, "wisp.db"), bolt.Options{Timeout: wait})
	if err != nil {
		return nil, fmt.Errorf("open the store in %s (is another wisp serve using it?): %w", dataDir, err)
	}
	return st, nil
}

// openStore opens the store cfg names: CouchDB at StoreURL, else the
// embedded store of DataDir.
func openStore(ctx context.Context, cfg Config) (store.Store, error) {
	if cfg.StoreURL == "" {
		return OpenStore(cfg.DataDir, cfg.StoreWait)
	}
	return openCouchDB(ctx, cfg)
}

// checkStemCells resolves the stem cells' kinds ("nodejs" → "nodejs:20")
// and checks their memory against the action limits.
func (s *Server) checkStemCells() error {
	mem := s.cfg.API.Limits.Memory
	s.cfg.Pool.StemCells = slices.Clone(s.cfg.Pool.StemCells)
	for i, c := range s.cfg.Pool.StemCells {
		kind, ok := s.cfg.API.Kinds.Resolve(c.Kind)
		if !ok {
			return fmt.Errorf("stem-cells: unknown kind %q", c.Kind)
		}
		if c.MemoryMB < mem.Min || c.MemoryMB > mem.Max {
			return fmt.Errorf("stem-cells: %s memory %d MB is outside the action memory limits %d..%d MB", c.Kind, c.MemoryMB, mem.Min, mem.Max)
		}
		s.cfg.Pool.StemCells[i].Kind = kind
	}
	return nil
}

// Start opens the store, wires the roles and starts serving. setup, when
// not nil, runs on the store before anything else starts (first-start
// provisioning).
func Start(ctx context.Context, cfg Config, log *slog.Logger, setup func(context.Context, store.Store) error) (*Server, error) {
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if setup != nil {
		if err := setup(ctx, st); err != nil {
			return nil, errors.Join(err, st.Close())
		}
	}
	var m *metrics.Metrics // nil records nothing
	if !cfg.NoMetrics {
		m = metrics.New()
	}
	s := &Server{cfg: cfg, log: log, metrics: m, store: writebehind.New(timedStore{Store: st, metrics: m}, log), errs: make(chan error, 2), egress: newEgress(ctx, cfg, log)}
	if err := s.start(ctx); err != nil {
		return nil, errors.Join(err, s.Close(context.Background()))
	}
	return s, nil
}

func (s *Server) start(ctx context.Context) error {
	kinds := s.cfg.API.Kinds.Resolve
	roles := s.cfg.Cluster.Roles.orAll()
	var err error
	if err = s.checkStemCells(); err != nil {
		return err
	}
	if err := s.cfg.Throttles.Validate(); err != nil {
		return err
	}
	s.listener, err = net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("addr: listen on %s: %w", s.cfg.Addr, err)
	}
	providers, err := feedProviders(s.cfg.Connectors, publicURL(s.cfg.Connectors, s.listener.Addr().String()), s.egress, s.log)
	if err != nil {
		return err
	}
	feedsCfg, err := s.feedsConfig()
	if err != nil {
		return err
	}
	s.feeds, err = feeds.New(feedsCfg, s.store, s.log, providers...)
	if err != nil {
		return err
	}
	s.metrics.WatchOutbox(s.feeds.OutboxDepth)
	if roles.Controller {
		packages := append(catalog.Packages(), s.feeds.Packages()...)
		if err := catalog.NewInstaller(s.store, s.cfg.API.Limits, kinds, s.log).Install(ctx, packages); err != nil {
			return err
		}
	}
	if s.cfg.MQTT != "" {
		mb, err := broker.Start(ctx, broker.Config{Addr: s.cfg.MQTT}, s.log)
		if err != nil {
			return err
		}
		s.mqtt = mb
		openBroker(s.egress, mb.Addr())
	}
	s.throttle = throttle.New(throttle.Config{Defaults: s.cfg.Throttles, OverrideTTL: s.cfg.API.AuthCacheTTL, Now: s.cfg.ThrottleClock,
		Refused: func(ns string, e *throttle.Error, fire bool) { s.metrics.Refused(ns, e.Concurrent, fire) }}, s.store, s.log)
	if err := s.openBus(ctx, roles); err != nil {
		return err
	}
	s.bus = s.metrics.InstrumentBus(s.bus)
	s.router, err = message.NewRouter(message.RouterConfig{CloseTimeout: 10 * time.Second}, watermill.NopLogger{})
	if err != nil {
		return fmt.Errorf("create bus router: %w", err)
	}
	apiHost := "http://" + s.listener.Addr().String()
	var backend invoker.Backend
	if roles.Invoker {
		backend, err = s.newBackend(ctx)
		if err != nil {
			return err
		}
		s.invoker = invoker.New(invoker.Config{
			ID: s.invokerID(), Pool: s.cfg.Pool, Limits: s.cfg.API.Limits, APIHost: apiHost, Builtins: s.feeds.Builtins(),
			Metrics: s.metrics,
		}, backend, s.store, s.store, s.bus, s.log)
		s.invoker.SetTracerProvider(s.cfg.Tracer)
		s.watchPool()
	}
	var ctrl *routing.Controller
	if roles.Controller || roles.Feeds {
		if ctrl, err = s.newController(ctx, roles); err != nil {
			return err
		}
		if s.invoker != nil {
			// Completions of this process's invoker reach its controller
			// by a call, not over the bus.
			s.invoker.SetLocalController(ctrl.ID(), ctrl.Complete)
		}
	}

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.runCtx = runCtx
	go func() { s.errs <- s.router.Run(runCtx) }()
	select {
	case <-s.router.Running():
	case err := <-s.errs:
		return fmt.Errorf("start bus router: %w", err)
	}
	if err := s.startClusterParts(runCtx, roles, apiHost); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "pong")
	})
	hub := api.NewActivationHub() // the console's live stream: records as this node queues them
	s.readiness(roles, backend).Register(mux)
	if err := s.serveMetrics(mux); err != nil {
		return err
	}
	if ctrl != nil {
		s.activator = routing.NewActivator(s.store, ctrl)
		handler := api.New(s.cfg.API, s.store, s.activator, s.log)
		s.store.Observe(hub.Publish)
		handler.UseActivationStream(hub)
		handler.UseMetrics(s.metrics)
		if err := s.wireTriggers(ctx, runCtx, handler, s.activator, roles); err != nil {
			return err
		}
		if roles.Controller {
			mux.Handle("/", s.traceHTTP(handler, "api"))
			mux.Handle("/console/", console.Handler()) // static files: the browser calls the API
		}
	}
	if hooks := s.feeds.Hooks(); hooks != nil && roles.Feeds {
		mux.Handle("/hooks/", s.traceHTTP(hooks, "hooks")) // outside the API's auth: each hook checks its signature
	}
	if s.http, err = s.cfg.HTTP.newServer(api.CanonicalPaths(mux), s.cfg.API.BlockingWait); err != nil {
		return err
	}
	s.http.RegisterOnShutdown(hub.Close) // open streams must not hold up Shutdown
	go func() { s.errs <- s.http.Serve(s.listener) }()
	s.log.Info("wisp is serving", "addr", s.Addr(), "data", s.cfg.DataDir, "roles", roles.String(), "bus", s.busName())
	return nil
}

// wireTriggers loads the rule index from the store and hands the API the
// trigger writer and firer over it. Fires are queued on the bus (a 202 is
// a fire on disk) and run by consumeFires, which writes the trigger
// activation before the ack; in a cluster, trigger changes are announced
// and other controllers' followed.
func (s *Server) wireTriggers(ctx, runCtx context.Context, handler *api.Server, activator *routing.Activator, roles Roles) error {
	index := routing.NewRuleIndex()
	if s.clustered() {
		// Subscribe before loading, so that no change falls in between.
		changes, err := s.bus.Broadcast().Subscribe(runCtx, bus.TopicEntities)
		if err != nil {
			return fmt.Errorf("follow trigger changes: %w", err)
		}
		go routing.SyncIndex(runCtx, index, s.store, changes, s.log)
	}
	if err := index.Load(ctx, s.store); err != nil {
		return err
	}
	triggers, rules := index.Len()
	s.log.Info("rule index loaded", "triggers", triggers, "rules", rules)
	s.firer = routing.NewFirer(index, activator, firerSink{s.store, s.metrics}, s.log)
	// Rules' HTTP sinks are tenants' URLs: dialled through the egress policy.
	if err := s.firer.SinkClient(s.egress.HTTPClient(30 * time.Second)); err != nil {
		return err
	}
	s.firer.Archive(s.store)
	writer := routing.NewTriggers(s.store, index, activator.Resolver().CheckRuleAction, s.cfg.API.Limits)
	s.firer.Queue(s.bus)
	activator.Queue(s.bus)
	if s.clustered() {
		writer.Announce(s.bus, s.log)
		// A blocking composition outlives the controller that took it.
		activator.QueueBlocking()
	}
	if roles.Controller {
		if err := s.consumeFires(runCtx); err != nil {
			return err
		}
	}
	handler.UseTriggers(writer, s.firer)
	if roles.Feeds {
		var firer feeds.Firer = s.firer
		if !s.clustered() {
			// One process: a feed's fire runs its rules at once (its
			// outbox keeps the event until they are durable) instead of
			// crossing the triggers queue.
			firer = nowFirer{s.firer, triggerSink{s.store, s.metrics}}
		}
		if err := s.feeds.Start(ctx, firer, writer); err != nil {
			return fmt.Errorf("start feeds: %w", err)
		}
		s.feedsStarted = true
	}
	return nil
}

// nowFirer is the feeds' firer of a single process: routing.Firer, whose
// FireNow writes trigger activations to sink.
type nowFirer struct {
	*routing.Firer
	sink routing.DurableSink
}

func (n nowFirer) FireNow(ctx context.Context, req routing.FireRequest) (func(context.Context) error, error) {
	_, keep, err := n.Firer.FireNow(ctx, req, n.sink)
	return keep, err
}

// Firer is the process's trigger firer (for tests, benchmarks and feeds).
func (s *Server) Firer() *routing.Firer { return s.firer }

// MQTTAddr is the address of the embedded MQTT broker, "" when there is
// none.
func (s *Server) MQTTAddr() string {
	if s.mqtt == nil {
		return ""
	}
	return s.mqtt.Addr().String()
}

// Addr is the address the API listens on.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// Invoker is the process's invoker (for tests and benchmarks).
func (s *Server) Invoker() *invoker.Invoker { return s.invoker }

// Store is the process's store.
func (s *Server) Store() store.Store { return s.store }

// Wait blocks until ctx ends or a part of the server fails.
func (s *Server) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-s.errs:
		return fmt.Errorf("server stopped: %w", err)
	}
}

// Close stops accepting requests, lets running activations finish (until
// ctx ends), removes the containers and closes the store.
func (s *Server) Close(ctx context.Context) error {
	var errs []error
	if s.http != nil {
		if err := s.http.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, fmt.Errorf("shut down http: %w", err))
		}
	} else if s.listener != nil {
		_ = s.listener.Close()
	}
	if s.metricsHTTP != nil {
		_ = s.metricsHTTP.Shutdown(ctx)
	}
	if s.feedsStarted {
		if err := s.feeds.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop feeds: %w", err))
		}
	}
	if s.activator != nil {
		if err := s.activator.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop sequences: %w", err))
		}
	}
	if s.stopConsume != nil {
		s.stopConsume() // a last ping says the invoker leaves
	}
	for _, inv := range []*invoker.Invoker{s.invoker, s.builtins} {
		if inv != nil {
			if err := inv.Close(ctx); err != nil {
				errs = append(errs, fmt.Errorf("shut down invoker: %w", err))
			}
		}
	}
	if s.mqtt != nil {
		if err := s.mqtt.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if s.cancel != nil {
		s.cancel()
	}
	if s.router != nil {
		if err := s.router.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close bus router: %w", err))
		}
	}
	if s.bus != nil {
		if err := s.bus.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close bus: %w", err))
		}
	}
	if err := s.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close store: %w", err))
	}
	return errors.Join(errs...)
}
