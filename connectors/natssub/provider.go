package natssub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wispio/wisp/egress"
	"github.com/wispio/wisp/feeds"
)

// Names in the catalogue.
const (
	// ProviderName is the catalogue package: /whisk.system/nats.
	ProviderName = "nats"
	// MessagesFeed is the feed action: /whisk.system/nats/messages.
	MessagesFeed = "messages"
)

// Config tunes connections; DefaultConfig suits production.
type Config struct {
	// ConnectTimeout bounds one connection attempt, and the checks that
	// follow it in Validate and Start.
	ConnectTimeout time.Duration
	// RetryMin and RetryMax bound the backoff between a feed's attempts
	// to reconnect, or to deliver an event its Sink refused.
	RetryMin, RetryMax time.Duration
	// Egress is the policy every connection to a server passes; nil is the
	// default policy (no private or loopback address).
	Egress *egress.Policy
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{ConnectTimeout: 10 * time.Second, RetryMin: time.Second, RetryMax: 30 * time.Second}
}

// Provider is the feeds.Provider of NATS servers. It holds no state of
// its own: each feed owns its connection.
type Provider struct {
	cfg Config
	log *slog.Logger
}

var (
	_ feeds.Provider  = (*Provider)(nil)
	_ feeds.Described = (*Provider)(nil)
	_ feeds.Forgetter = (*Provider)(nil)
)

// New returns a Provider; a nil log discards.
func New(cfg Config, log *slog.Logger) *Provider {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Provider{cfg: cfg, log: log.With("provider", ProviderName)}
}

// Name is the catalogue package it serves.
func (p *Provider) Name() string { return ProviderName }

// Feeds lists its feed actions.
func (p *Provider) Feeds() []string { return []string{MessagesFeed} }

// Description describes the catalogue package.
func (p *Provider) Description() string {
	return "NATS: fire triggers on the messages of a subject (feed messages)"
}

// FeedDescription describes a feed action.
func (p *Provider) FeedDescription(feed string) string {
	if feed != MessagesFeed {
		return ""
	}
	return "Fires the trigger once per message on a NATS subject: url, subject, queue (core NATS), " +
		"stream (a JetStream durable consumer: at least once), username, password, token"
}

// Validate checks the parameters, then connects to the server once and
// subscribes (or, with stream, looks the stream up), so that an
// unreachable server, refused credentials or a missing stream fail the
// CREATE or UPDATE.
func (p *Provider) Validate(ctx context.Context, feed string, params map[string]json.RawMessage) error {
	if feed != MessagesFeed {
		return invalidf("feed: %q is not a feed of /whisk.system/nats (want %s)", feed, MessagesFeed)
	}
	fp, err := parseFeedParams(params)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.ConnectTimeout)
	defer cancel()
	nc, err := nats.Connect(fp.URL, p.options(fp, "wisp-check")...)
	if err != nil {
		return serverError(fp.URL, err)
	}
	defer nc.Close()
	if fp.Stream != "" {
		js, err := jetstream.New(nc)
		if err != nil {
			return invalidf("stream: %v", err)
		}
		if _, err := js.Stream(ctx, fp.Stream); err != nil {
			if errors.Is(err, jetstream.ErrStreamNotFound) {
				return invalidf("stream: no stream %q at %s", fp.Stream, fp.URL)
			}
			return invalidf("stream: look up %q at %s: %v", fp.Stream, fp.URL, err)
		}
		return nil
	}
	sub, err := nc.SubscribeSync(fp.Subject)
	if err != nil {
		return invalidf("subject: %v", err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := nc.FlushWithContext(ctx); err != nil {
		return invalidf("url: the NATS server at %s did not answer: %v", fp.URL, err)
	}
	if err := nc.LastError(); errors.Is(err, nats.ErrPermissionViolation) {
		return invalidf("subject: the server refused the subscription to %q (not permitted)", fp.Subject)
	}
	return nil
}

// Start runs reg's feed. It connects, subscribes (or binds its durable
// consumer) and answers once the server holds the subscription, so that a
// message published right after CREATE reaches the trigger; a server that
// cannot be reached is reported through sink.Report and retried, and
// Start answers after that first attempt.
func (p *Provider) Start(ctx context.Context, reg feeds.Registration, sink feeds.Sink) (feeds.Feed, error) {
	if reg.Feed != MessagesFeed {
		return nil, invalidf("feed: %q is not a feed of /whisk.system/nats (want %s)", reg.Feed, MessagesFeed)
	}
	fp, err := parseFeedParams(reg.Params)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f := &feed{
		p:       p,
		params:  fp,
		reg:     reg,
		sink:    sink,
		log:     p.log.With("trigger", reg.Trigger, "subject", fp.Subject),
		ctx:     runCtx,
		cancel:  cancel,
		done:    make(chan struct{}),
		started: make(chan struct{}),
	}
	go f.run()
	t := time.NewTimer(p.cfg.ConnectTimeout)
	defer t.Stop()
	select {
	case <-f.started:
	case <-t.C:
	case <-ctx.Done():
	}
	return f, nil
}

// Forget deletes the durable consumer of a JetStream feed, so that a
// deleted trigger leaves nothing kept for it at the server; a core NATS
// feed keeps nothing. Stop the feed first.
func (p *Provider) Forget(ctx context.Context, reg feeds.Registration) error {
	fp, err := parseFeedParams(reg.Params)
	if err != nil || fp.Stream == "" {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.ConnectTimeout)
	defer cancel()
	nc, err := nats.Connect(fp.URL, p.options(fp, "wisp-forget")...)
	if err != nil {
		return fmt.Errorf("forget the consumer of %s at %s: %w", reg.Trigger, fp.URL, connectError(err))
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("forget the consumer of %s: %w", reg.Trigger, err)
	}
	err = js.DeleteConsumer(ctx, fp.Stream, DurableName(reg.Trigger))
	if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("forget the consumer of %s in stream %s: %w", reg.Trigger, fp.Stream, err)
	}
	return nil
}

// DurableName is the JetStream durable consumer of a trigger's feed:
// stable across restarts, so that the server keeps the messages not
// acknowledged for it.
func DurableName(trigger string) string {
	sum := sha256.Sum256([]byte("wisp nats feed " + trigger))
	return "wisp-" + hex.EncodeToString(sum[:9])
}

// options are the options every connection shares: dialled through the
// egress policy (every address, host names resolved, servers the cluster
// announces included), with bounded waits, and no reconnection (feeds add
// theirs).
func (p *Provider) options(fp feedParams, name string) []nats.Option {
	dialer := p.cfg.Egress.Dialer()
	dialer.Timeout = p.cfg.ConnectTimeout
	opts := []nats.Option{
		nats.Name(name),
		nats.Dialer(dialer),
		nats.Timeout(p.cfg.ConnectTimeout),
		nats.NoReconnect(),
	}
	switch {
	case fp.Username != "":
		opts = append(opts, nats.UserInfo(fp.Username, fp.Password))
	case fp.Token != "":
		opts = append(opts, nats.Token(fp.Token))
	}
	return opts
}

// connectError says why a connection failed without anything the far end
// sent: a denial is the policy's error itself, a refusal of credentials
// NATS's fixed wording, a network failure one of egress.Explain's phrases.
func connectError(err error) error {
	var denied *egress.DeniedError
	switch {
	case errors.As(err, &denied):
		return denied
	case errors.Is(err, nats.ErrAuthorization), errors.Is(err, nats.ErrAuthExpired), errors.Is(err, nats.ErrAuthRevoked):
		return errors.New("the server refused the credentials")
	case errors.Is(err, nats.ErrNoServers):
		return errors.New("no server answers there")
	case errors.Is(err, nats.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return errors.New("no answer in time")
	}
	return errors.New(egress.Explain(err))
}

// serverError is the error of a failed connection to the server at url:
// exactly the policy's message when the policy denied it.
func serverError(url string, err error) error {
	err = connectError(err)
	if _, denied := err.(*egress.DeniedError); denied {
		return &paramError{msg: err.Error()}
	}
	return invalidf("url: cannot connect to the NATS server at %s: %v", url, err)
}
