package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/wispio/wisp/bus"
	"github.com/wispio/wisp/invoker"
	"github.com/wispio/wisp/invoker/process"
	"github.com/wispio/wisp/routing"
)

// Roles are the parts of Wisp a process runs. The zero value runs all.
type Roles struct {
	// Controller serves the API, balances invocations, runs fires,
	// sequences and blocking waits.
	Controller bool
	// Invoker runs actions in its container pool.
	Invoker bool
	// Feeds runs the feed manager, its providers and webhooks, and the
	// feed actions (once per cluster).
	Feeds bool
}

// ParseRoles parses a comma-separated list of controller, invoker, feeds
// and all.
func ParseRoles(s string) (Roles, error) {
	var r Roles
	for _, name := range strings.Split(s, ",") {
		switch strings.TrimSpace(name) {
		case "all", "":
			r = Roles{true, true, true}
		case "controller":
			r.Controller = true
		case "invoker":
			r.Invoker = true
		case "feeds":
			r.Feeds = true
		default:
			return Roles{}, fmt.Errorf("role: unknown role %q (available: controller, invoker, feeds, all)", name)
		}
	}
	return r, nil
}

func (r Roles) all() bool { return r.Controller && r.Invoker && r.Feeds }

// orAll is r, or all roles when r names none.
func (r Roles) orAll() Roles {
	if !r.Controller && !r.Invoker && !r.Feeds {
		return Roles{true, true, true}
	}
	return r
}

func (r Roles) String() string {
	if r.orAll().all() {
		return "all"
	}
	var names []string
	for _, x := range []struct {
		on   bool
		name string
	}{{r.Controller, "controller"}, {r.Invoker, "invoker"}, {r.Feeds, "feeds"}} {
		if x.on {
			names = append(names, x.name)
		}
	}
	return strings.Join(names, ",")
}

// ClusterConfig configures the roles' meeting on a shared bus.
type ClusterConfig struct {
	// Roles this process runs; zero runs all.
	Roles Roles
	// BusURL is the NATS server (nats://host:4222); empty is the
	// in-process bus, which needs all roles in this process.
	BusURL string
	// BusCredentialsFile, when set, holds the credentials BusURL's server
	// wants instead of the URL's user information: USER:PASSWORD, an nkey
	// seed or a NATS .creds file (see bus.NATSOptions.CredentialsFile).
	BusCredentialsFile string
	// BusPrefix prefixes the bus's subjects and streams (several clusters
	// or test runs on one NATS server).
	BusPrefix string
	// ID names this node: its invoker's queue and its controller's
	// completions; empty derives it from the data folder.
	ID string
	// Workers is how many activations an invoker takes from a durable bus
	// at once.
	Workers int
	// HealthInterval is how often an invoker pings; InvokerSilence how
	// long controllers wait for a ping before taking an invoker out.
	HealthInterval time.Duration
	InvokerSilence time.Duration
	// FeedLease is how long a feeds node's hold on a feed registration
	// lasts without renewal (renewed every third of it): when the node
	// dies, another feeds node takes its feeds over after at most this
	// long plus a third.
	FeedLease time.Duration
}

// DefaultClusterConfig returns the defaults: all roles on the in-process
// bus.
func DefaultClusterConfig() ClusterConfig {
	return ClusterConfig{Workers: 128, HealthInterval: time.Second, InvokerSilence: 4 * time.Second, FeedLease: 3 * time.Second}
}

// builtinsInvoker is the queue of the feeds node's invoker, which runs the
// builtin (feed) actions beside the feed manager.
const builtinsInvoker = "feeds"

// fireWorkers is how many queued fires a controller runs at once.
const fireWorkers = 16

// openBus connects the bus the configuration names.
func (s *Server) openBus(ctx context.Context, roles Roles) error {
	if s.cfg.Cluster.BusURL == "" {
		if !roles.all() {
			return fmt.Errorf("bus: --role %s needs a shared bus (--bus nats://HOST:4222): the in-process bus runs all roles in one process", roles)
		}
		if err := os.MkdirAll(s.cfg.DataDir, 0o700); err != nil {
			return fmt.Errorf("create data folder %s: %w", s.cfg.DataDir, err)
		}
		b, err := bus.OpenEmbedded(filepath.Join(s.cfg.DataDir, "queue.db"), s.cfg.StoreWait, s.log)
		if err != nil {
			return err
		}
		s.bus = s.cfg.tapped(b)
		return nil
	}
	if cc := s.cfg.Cluster; cc.HealthInterval <= 0 || cc.InvokerSilence <= cc.HealthInterval {
		return fmt.Errorf("invoker-silence: %s must be longer than the invokers' health interval (%s)", cc.InvokerSilence, cc.HealthInterval)
	}
	if lease := s.cfg.Cluster.FeedLease; lease < time.Second {
		return fmt.Errorf("feed-lease: %s must be at least 1s (a feeds node renews its leases every third of it)", lease)
	}
	if s.cfg.StoreURL == "" && !roles.all() {
		return fmt.Errorf("store: --role %s needs a shared store (--store couchdb://...): the embedded store belongs to one process", roles)
	}
	b, err := bus.ConnectNATS(ctx, s.cfg.Cluster.BusURL, bus.NATSOptions{
		Name: "wisp " + roles.String() + " " + s.nodeID(), Prefix: s.cfg.Cluster.BusPrefix, CredentialsFile: s.cfg.Cluster.BusCredentialsFile,
	}, s.log)
	if err != nil {
		return err
	}
	s.bus, s.nats = s.cfg.tapped(b), b
	return nil
}

// tapped is b seen through cfg.busTap, when a test set one.
func (cfg *Config) tapped(b bus.Bus) bus.Bus {
	if cfg.busTap == nil {
		return b
	}
	return cfg.busTap(b)
}

func (s *Server) busName() string {
	if s.clustered() {
		return "nats"
	}
	return "embedded"
}

// clustered reports whether this process meets other nodes on a shared
// bus (NATS); else it runs all roles alone, on the embedded bus.
func (s *Server) clustered() bool { return s.cfg.Cluster.BusURL != "" }

// nodeID is the configured id, else one derived from the data folder.
func (s *Server) nodeID() string {
	if s.cfg.Cluster.ID != "" {
		return s.cfg.Cluster.ID
	}
	return s.InvokerID()
}

// invokerID is the id of this process's invoker: invoker0 in one process.
func (s *Server) invokerID() string {
	if !s.clustered() {
		return "invoker0"
	}
	return s.nodeID()
}

// newController makes the controller: in one process over the one
// invoker, on a durable bus over the invokers its watcher hears from.
func (s *Server) newController(ctx context.Context, roles Roles) (*routing.Controller, error) {
	id, balancer := "controller0", routing.NewBalancer("invoker0")
	if s.clustered() {
		id, balancer = "controller-"+s.nodeID(), routing.NewBalancer()
	}
	ctrl := routing.NewController(id, s.bus, balancer, s.throttle, s.log)
	ctrl.SetTracerProvider(s.cfg.Tracer)
	sub, err := s.bus.Queue(ctx, bus.CompletionsTopic(id), id, 30*time.Second)
	if err != nil {
		return nil, err
	}
	ctrl.HandleCompletions(s.router, sub)
	if s.clustered() {
		ctrl.RouteBuiltins(builtinsInvoker)
		if roles.Controller {
			s.watcher = routing.NewWatcher(ctrl, s.bus, invoker.QueueConsumer, s.cfg.Cluster.InvokerSilence)
		}
	}
	return ctrl, nil
}

// startClusterParts starts what consumes a durable bus once the router
// runs: the invoker's queue; in a cluster also its pings, the feeds node's
// builtin invoker and the controller's health watcher.
func (s *Server) startClusterParts(ctx context.Context, roles Roles, apiHost string) error {
	consumeCtx, stop := context.WithCancel(ctx)
	s.stopConsume = stop
	if !s.clustered() {
		if s.invoker != nil {
			return s.invoker.Consume(consumeCtx, s.bus, s.cfg.Cluster.Workers)
		}
		return nil
	}
	if err := s.shareMetrics(ctx, s.cfg.Cluster.HealthInterval); err != nil {
		return fmt.Errorf("share namespace metrics: %w", err)
	}
	if roles.Controller || roles.Feeds {
		if err := s.shareThrottles(ctx); err != nil {
			return err
		}
	}
	// The watcher listens before this process's invoker first pings.
	if s.watcher != nil {
		pings, err := s.bus.Broadcast().Subscribe(ctx, bus.TopicHealth)
		if err != nil {
			return fmt.Errorf("follow invoker health: %w", err)
		}
		go s.watcher.Run(ctx, pings)
	}
	if s.invoker != nil {
		if err := s.invoker.Consume(consumeCtx, s.bus, s.cfg.Cluster.Workers); err != nil {
			return err
		}
		go s.invoker.Ping(consumeCtx, s.bus, s.cfg.Cluster.HealthInterval)
	}
	if roles.Feeds {
		// Feed actions are Go handlers: they need no containers, only the
		// feed manager of this process (the backend's folder, a fresh
		// temporary one, stays empty).
		backend, err := process.New(process.Config{}, s.log)
		if err != nil {
			return err
		}
		s.builtins = invoker.New(invoker.Config{
			ID: builtinsInvoker, Pool: invoker.PoolConfig{UserMemoryMB: s.cfg.Pool.UserMemoryMB, IdleTimeout: time.Minute},
			Limits: s.cfg.API.Limits, APIHost: apiHost, Builtins: s.feeds.Builtins(),
		}, backend, s.store, s.store, s.bus, s.log)
		s.builtins.SetTracerProvider(s.cfg.Tracer)
		// Every feeds node takes feed actions from the one queue.
		if err := s.builtins.Consume(consumeCtx, sharedQueues{s.bus}, 16); err != nil {
			return err
		}
		if err := s.shareFeeds(consumeCtx); err != nil {
			return err
		}
	}
	return nil
}

// consumeFires runs fires from the triggers queue and non-blocking
// compositions from the compositions queue, both shared by every
// controller; a message is acked once its record is written.
func (s *Server) consumeFires(ctx context.Context) error {
	if err := s.consumeShared(ctx, bus.TopicTriggers, 20*time.Second, func(msg *message.Message) error {
		return s.firer.HandleQueued(ctx, msg, triggerSink{s.store, s.metrics})
	}); err != nil {
		return err
	}
	if err := s.consumeShared(ctx, bus.TopicDeliveries, routing.DeliveriesAckWait, func(msg *message.Message) error {
		return s.firer.HandleDelivery(ctx, msg)
	}); err != nil {
		return err
	}
	return s.consumeShared(ctx, bus.TopicCompositions, routing.CompositionAckWait, s.keptInProgress(routing.CompositionProgress, func(msg *message.Message) error {
		return s.activator.HandleQueued(ctx, msg, s.store)
	}))
}

// keptInProgress is handle, telling the bus every interval that the
// message is still being handled (see bus.Bus.InProgress), so that only a
// process that stopped loses it.
func (s *Server) keptInProgress(interval time.Duration, handle func(*message.Message) error) func(*message.Message) error {
	return func(msg *message.Message) error {
		done := make(chan struct{})
		defer close(done)
		go func() {
			tick := time.NewTicker(interval)
			defer tick.Stop()
			for {
				select {
				case <-done:
					return
				case <-tick.C:
					if err := s.bus.InProgress(msg); err != nil {
						s.log.Warn("report a queued message in progress", "messageId", msg.UUID, "err", err)
					}
				}
			}
		}()
		return handle(msg)
	}
}

// consumeShared runs handle on fireWorkers messages of topic at a time:
// a message handle returns nil for is acked, else left for a redelivery.
func (s *Server) consumeShared(ctx context.Context, topic string, ackWait time.Duration, handle func(*message.Message) error) error {
	sub, err := s.bus.SharedQueue(ctx, topic, topic, ackWait)
	if err != nil {
		return err
	}
	for range fireWorkers {
		msgs, err := sub.Subscribe(ctx, topic)
		if err != nil {
			return fmt.Errorf("consume %s: %w", topic, err)
		}
		go func() {
			for msg := range msgs {
				if err := handle(msg); err != nil {
					s.log.Error("queued "+topic+"; left for a redelivery", "messageId", msg.UUID, "err", err)
					msg.Nack()
					continue
				}
				msg.Ack()
			}
		}()
	}
	return nil
}

// Invokers returns the invokers the controller's balancer holds healthy
// (for tests).
func (s *Server) Invokers() []string {
	if s.activator == nil {
		return nil
	}
	return s.activator.Controller().Balancer().Invokers()
}
