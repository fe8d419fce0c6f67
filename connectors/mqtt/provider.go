package mqtt

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/wispio/wisp/connectors/hookfeed"
	"github.com/wispio/wisp/egress"
	"github.com/wispio/wisp/feeds"
)

// Names in the catalogue.
const (
	// ProviderName is the catalogue package: /whisk.system/mqtt.
	ProviderName = "mqtt"
	// MessagesFeed is the feed action: /whisk.system/mqtt/messages.
	MessagesFeed = "messages"
)

// Config tunes connections; DefaultConfig suits production.
type Config struct {
	// ConnectTimeout bounds one connection attempt (and the subscription
	// or publication that follows) in Validate, publish and each of a
	// feed's sessions.
	ConnectTimeout time.Duration
	// KeepAlive is the MQTT keep-alive: a broker silent for about this
	// long counts as lost.
	KeepAlive time.Duration
	// RetryMin and RetryMax bound the exponential backoff between a
	// feed's attempts to reconnect.
	RetryMin, RetryMax time.Duration
	// Egress is the policy every connection to a broker passes; nil is the
	// default policy (no private or loopback address).
	Egress *egress.Policy
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		ConnectTimeout: 10 * time.Second,
		KeepAlive:      30 * time.Second,
		RetryMin:       time.Second,
		RetryMax:       30 * time.Second,
	}
}

// Provider is the feeds.Provider of MQTT brokers, and the home of the
// publish action. It holds no state of its own: each feed owns its
// connection.
type Provider struct {
	cfg Config
	log *slog.Logger
}

var _ feeds.Provider = (*Provider)(nil)

// New returns a Provider.
func New(cfg Config, log *slog.Logger) *Provider {
	return &Provider{cfg: cfg, log: log.With("provider", ProviderName)}
}

// Name is the catalogue package it serves.
func (p *Provider) Name() string { return ProviderName }

// Feeds lists its feed actions.
func (p *Provider) Feeds() []string { return []string{MessagesFeed} }

// Validate checks the parameters, then connects to the broker (with a
// throwaway client id and a clean session, so that a running feed's
// session is left alone) and subscribes to the topic, so that an
// unreachable broker, refused credentials or a refused topic fail the
// CREATE or UPDATE.
func (p *Provider) Validate(ctx context.Context, feed string, params map[string]json.RawMessage) error {
	if feed != MessagesFeed {
		return invalidf("feed: %q is not a feed of /whisk.system/mqtt (want %s)", feed, MessagesFeed)
	}
	fp, err := parseFeedParams(params)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.ConnectTimeout)
	defer cancel()
	c := paho.NewClient(p.clientOptions(fp.conn, throwawayClientID("wisp-check-")))
	if err := wait(ctx, c.Connect()); err != nil {
		return brokerError(fp.URL, err)
	}
	defer c.Disconnect(0)
	if err := subscribe(ctx, c, fp.Topic, fp.QoS); err != nil {
		return invalidf("topic: %v", err)
	}
	return nil
}

// Start runs reg's feed: it connects in the background with a persistent
// session and reports the connection through sink.Report.
func (p *Provider) Start(ctx context.Context, reg feeds.Registration, sink feeds.Sink) (feeds.Feed, error) {
	if reg.Feed != MessagesFeed {
		return nil, invalidf("feed: %q is not a feed of /whisk.system/mqtt (want %s)", reg.Feed, MessagesFeed)
	}
	fp, err := parseFeedParams(reg.Params)
	if err != nil {
		return nil, err
	}
	clientID := fp.ClientID
	if clientID == "" {
		clientID = DefaultClientID(reg.Trigger)
	}
	deliveries, err := hookfeed.NewDeliveries(sink, recentDeliveries, reg.Cursor)
	if err != nil {
		p.log.Warn("mqtt feed: starting without its recent message ids", "trigger", reg.Trigger, "err", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f := &feed{
		deliveries: deliveries,
		p:          p,
		params:     fp,
		clientID:   clientID,
		sink:       sink,
		log:        p.log.With("trigger", reg.Trigger, "clientId", clientID),
		cancel:     cancel,
		done:       make(chan struct{}),
		ready:      make(chan struct{}),
	}
	go f.run(runCtx)
	// Answer CREATE once the broker holds the subscription (the session
	// queues from then on), so that a message published right after CREATE
	// is not lost; a broker that does not answer in time is reported and
	// retried by run.
	t := time.NewTimer(p.cfg.ConnectTimeout)
	defer t.Stop()
	select {
	case <-f.ready:
	case <-t.C:
	case <-ctx.Done():
	}
	return f, nil
}

// Forget discards reg's session at the broker: it connects once with the
// feed's client id and a clean session, which drops the subscription and
// the messages queued for it. Stop keeps the session (a restart resumes
// it); after DELETE the feed manager calls Forget, where it knows it (an
// optional method beside feeds.Provider), so that a deleted trigger
// leaves nothing queuing at the broker. Stop the feed first: a running
// feed would be disconnected by the broker.
func (p *Provider) Forget(ctx context.Context, reg feeds.Registration) error {
	fp, err := parseFeedParams(reg.Params)
	if err != nil {
		return err
	}
	clientID := fp.ClientID
	if clientID == "" {
		clientID = DefaultClientID(reg.Trigger)
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.ConnectTimeout)
	defer cancel()
	c := paho.NewClient(p.clientOptions(fp.conn, clientID)) // clean session
	if err := wait(ctx, c.Connect()); err != nil {
		return fmt.Errorf("forget the mqtt session of %s at %s: %w", reg.Trigger, fp.URL, connectError(err))
	}
	c.Disconnect(0)
	return nil
}

// DefaultClientID is the client id of a trigger's feed when the user gives
// none: stable across restarts (the broker keeps the session under it) and
// at most 23 characters, the limit of MQTT 3.1 brokers.
func DefaultClientID(trigger string) string {
	sum := sha256.Sum256([]byte("wisp mqtt feed " + trigger))
	return "wisp-" + hex.EncodeToString(sum[:9])
}

// throwawayClientID is a random client id with prefix, for one-off
// connections (Validate, publish).
func throwawayClientID(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail
	return prefix + hex.EncodeToString(b)
}

// clientOptions are the options every connection shares: no automatic
// reconnection (feeds reconnect on their own), bounded waits.
func (p *Provider) clientOptions(c conn, clientID string) *paho.ClientOptions {
	return paho.NewClientOptions().
		AddBroker(c.URL).
		SetClientID(clientID).
		SetUsername(c.Username).
		SetPassword(c.Password).
		SetConnectTimeout(p.cfg.ConnectTimeout).
		SetWriteTimeout(p.cfg.ConnectTimeout).
		SetKeepAlive(p.cfg.KeepAlive).
		SetPingTimeout(p.cfg.ConnectTimeout).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetCleanSession(true).
		SetCustomOpenConnectionFn(p.openConnection)
}

// wait waits for a paho token or ctx.
func wait(ctx context.Context, t paho.Token) error {
	select {
	case <-t.Done():
		return t.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// subscribe subscribes with no handler of its own (messages go to the
// client's default handler) and checks the broker's answer.
func subscribe(ctx context.Context, c paho.Client, topic string, qos byte) error {
	t := c.Subscribe(topic, qos, nil)
	if err := wait(ctx, t); err != nil {
		return fmt.Errorf("subscribe to %q: %w", topic, err)
	}
	if granted, ok := t.(*paho.SubscribeToken).Result()[topic]; ok && granted == 0x80 {
		return fmt.Errorf("the broker refused the subscription to %q (not authorised?)", topic)
	}
	return nil
}
