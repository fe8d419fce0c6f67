package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmjs "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/jetstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wispio/wisp/internal/redact"
)

const msgIDHeader = nats.MsgIdHdr

// SeqHeader is the metadata key a reclaimed message carries its stream
// sequence in.
const SeqHeader = "Wisp-Seq"

// handlerWait is how long a queue's subscription waits for its handler to
// ack or nack a message before it gives the message up: in effect for as
// long as the handler runs. The consumer's ack wait (kept going by
// InProgress) decides when the server delivers a message again; a
// subscription that gave its message up locally would only take the next
// one while its handler is still busy, that one's ack wait running out
// unseen, and drop the handler's late ack.
const handlerWait = 24 * time.Hour

// dupWindow is how long JetStream remembers message ids: a message
// published again within it (same UUID) is stored once.
const dupWindow = 2 * time.Minute

// streams are Wisp's JetStream streams, created (or updated) on connect;
// NATSOptions.Prefix prefixes their names and subjects.
var streams = []jetstream.StreamConfig{{
	Name:        "WISP_INVOKE",
	Description: "invocations, one subject per invoker; removed when the invoker acks (the activation is stored)",
	Subjects:    []string{TopicInvokerPrefix + "*"},
	Retention:   jetstream.WorkQueuePolicy,
	Storage:     jetstream.FileStorage,
	Duplicates:  dupWindow,
}, {
	Name:        "WISP_TRIGGERS",
	Description: "accepted trigger fires; removed when a controller has started the rules' actions",
	Subjects:    []string{TopicTriggers},
	Retention:   jetstream.WorkQueuePolicy,
	Storage:     jetstream.FileStorage,
	Duplicates:  dupWindow,
}, {
	Name:        "WISP_COMPOSITIONS",
	Description: "accepted non-blocking sequences and conductor actions; removed when a controller has stored the record",
	Subjects:    []string{TopicCompositions},
	Retention:   jetstream.WorkQueuePolicy,
	Storage:     jetstream.FileStorage,
	Duplicates:  dupWindow,
}, {
	Name:        "WISP_DELIVERIES",
	Description: "outcomes of rule activations with retries or a dead letter, and scheduled retries; removed once handled",
	Subjects:    []string{TopicDeliveries},
	Retention:   jetstream.WorkQueuePolicy,
	Storage:     jetstream.FileStorage,
	Duplicates:  dupWindow,
}, {
	Name:        "WISP_COMPLETIONS",
	Description: "finished activations for the controllers that wait for them",
	Subjects:    []string{TopicCompletionsPrefix + "*"},
	Retention:   jetstream.WorkQueuePolicy,
	Storage:     jetstream.FileStorage,
	// A controller that never comes back leaves its completions behind.
	MaxAge:     10 * time.Minute,
	Duplicates: dupWindow,
}, {
	Name:        "WISP_EVENTS",
	Description: "invoker health, entity changes and namespace metrics, for whoever listens now",
	Subjects:    []string{TopicHealth, TopicEntities, TopicMetrics},
	Retention:   jetstream.LimitsPolicy,
	Storage:     jetstream.MemoryStorage,
	MaxAge:      time.Minute,
}}

// streamOf names the stream holding topic (unprefixed).
func (b *NATS) streamOf(topic string) (string, error) {
	for _, s := range streams {
		for _, subj := range s.Subjects {
			if subj == topic || (strings.HasSuffix(subj, ".*") && strings.HasPrefix(topic, strings.TrimSuffix(subj, "*")) && !strings.Contains(topic[len(subj)-1:], ".")) {
				return b.streamPrefix + s.Name, nil
			}
		}
	}
	return "", fmt.Errorf("bus: no stream holds topic %q", topic)
}

// subject is the NATS subject of topic.
func (b *NATS) subject(topic string) string { return b.opts.Prefix + topic }

// NATSOptions configures a NATS bus.
type NATSOptions struct {
	// Name identifies this process in the server's connection list.
	Name string
	// Prefix, when set, prefixes subjects ("PREFIX.topic") and stream
	// names, so that several Wisp clusters (or tests) share one server.
	// Letters, digits, '-' and '_' only.
	Prefix string
	// CredentialsFile, when set, names a file holding the credentials to
	// connect with instead of the URL's user information: one line
	// USER:PASSWORD, an nkey user seed (SU...), or a NATS .creds file
	// (user JWT and seed). A server that requires none ignores them.
	CredentialsFile string
}

// NATS is the bus over NATS JetStream.
type NATS struct {
	url          string
	shown        string // url with its user information redacted, for logs and errors
	opts         NATSOptions
	streamPrefix string
	log          *slog.Logger
	auth         nats.Option // from opts.CredentialsFile; nil: the URL's, or none
	nc           *nats.Conn  // the publisher's and the administration's
	js           jetstream.JetStream
	pub          *wmjs.Publisher

	mu   sync.Mutex // guards subs
	subs []*wmjs.Subscriber
}

// ConnectNATS connects to the NATS server at url (nats://host:4222) and
// creates Wisp's streams.
func ConnectNATS(ctx context.Context, url string, opts NATSOptions, log *slog.Logger) (*NATS, error) {
	b := &NATS{url: url, shown: redact.URL(url), opts: opts, log: log}
	if opts.Prefix != "" {
		if strings.ContainsFunc(opts.Prefix, func(r rune) bool {
			return !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
		}) {
			return nil, fmt.Errorf("bus-prefix: %q: only letters, digits, '-' and '_'", opts.Prefix)
		}
		b.streamPrefix = strings.ToUpper(opts.Prefix) + "_"
		b.opts.Prefix = opts.Prefix + "."
	}
	var err error
	if b.auth, err = natsAuth(opts.CredentialsFile, url); err != nil {
		return nil, fmt.Errorf("bus: %w", err)
	}
	if b.nc, err = b.connect(); err != nil {
		return nil, err
	}
	if b.js, err = jetstream.New(b.nc); err != nil {
		b.nc.Close()
		return nil, fmt.Errorf("bus: jetstream on %s: %w", b.shown, redact.Wrap(err, url))
	}
	for _, cfg := range streams {
		cfg.Name = b.streamPrefix + cfg.Name
		cfg.Subjects = slices.Clone(cfg.Subjects)
		for i, subj := range cfg.Subjects {
			cfg.Subjects[i] = b.subject(subj)
		}
		if _, err := b.js.CreateOrUpdateStream(ctx, cfg); err != nil {
			b.nc.Close()
			return nil, fmt.Errorf("bus: create stream %s on %s (is JetStream enabled? nats-server -js): %w", cfg.Name, b.shown, redact.Wrap(err, url))
		}
	}
	b.pub, err = wmjs.NewPublisher(wmjs.PublisherConfig{
		Conn:   b.nc,
		Logger: watermill.NopLogger{},
		// The publisher publishes to the subject named by the stream
		// config's Name; the streams themselves are the ones above.
		ConfigureStream: func(topic string) jetstream.StreamConfig { return jetstream.StreamConfig{Name: b.subject(topic)} },
	})
	if err != nil {
		b.nc.Close()
		return nil, fmt.Errorf("bus: publisher: %w", err)
	}
	return b, nil
}

// connect opens a connection that reconnects for as long as it takes.
func (b *NATS) connect() (*nats.Conn, error) {
	opts := []nats.Option{nats.Name(b.opts.Name), nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				b.log.Warn("bus: disconnected from NATS", "url", b.shown, "err", redact.Wrap(err, b.url))
			}
		}),
		nats.ReconnectHandler(func(*nats.Conn) { b.log.Info("bus: reconnected to NATS", "url", b.shown) }),
		// Asynchronous errors (a refusal while reconnecting, when the
		// credentials changed on the server only; a slow consumer) go to
		// the log instead of nats.go's stderr.
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			b.log.Warn("bus: NATS error", "url", b.shown, "subject", subject, "err", redact.Wrap(err, b.url))
		}),
	}
	if b.auth != nil {
		opts = append(opts, b.auth)
	}
	nc, err := nats.Connect(b.url, opts...)
	if err != nil {
		if hint := authHint(err, b.url, b.opts.CredentialsFile); hint != "" {
			return nil, fmt.Errorf("bus: connect to %s: %s: %w", b.shown, hint, redact.Wrap(err, b.url))
		}
		return nil, fmt.Errorf("bus: connect to %s: %w", b.shown, redact.Wrap(err, b.url))
	}
	return nc, nil
}

// Publish publishes messages and returns once JetStream has stored them.
func (b *NATS) Publish(topic string, msgs ...*message.Message) error {
	return b.pub.Publish(topic, msgs...)
}

// Queue returns a subscriber of the durable consumer named consumer, which
// takes the messages of topic and belongs to this process alone (an
// invoker's or a controller's id). It is created anew, so that the messages
// a previous owner of the name left unacked are delivered at once rather
// than after ackWait. A consumer that several processes share is
// SharedQueue's.
func (b *NATS) Queue(ctx context.Context, topic, consumer string, ackWait time.Duration) (message.Subscriber, error) {
	return b.queue(ctx, topic, consumer, ackWait, false)
}

// SharedQueue is Queue for a consumer every process of a role shares (the
// triggers' queue): joining it leaves the others' deliveries alone.
func (b *NATS) SharedQueue(ctx context.Context, topic, consumer string, ackWait time.Duration) (message.Subscriber, error) {
	return b.queue(ctx, topic, consumer, ackWait, true)
}

func (b *NATS) queue(ctx context.Context, topic, consumer string, ackWait time.Duration, shared bool) (message.Subscriber, error) {
	streamName, err := b.streamOf(topic)
	if err != nil {
		return nil, err
	}
	stream, err := b.js.Stream(ctx, streamName)
	if err != nil {
		return nil, fmt.Errorf("bus: stream %s: %w", streamName, err)
	}
	cfg := jetstream.ConsumerConfig{
		Durable:       consumer,
		FilterSubject: b.subject(topic),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		MaxAckPending: 4096,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
	if !shared {
		err := stream.DeleteConsumer(ctx, consumer)
		if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return nil, fmt.Errorf("bus: reset consumer %s: %w", consumer, err)
		}
	}
	cons, err := stream.CreateOrUpdateConsumer(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("bus: consumer %s of %s: %w", consumer, topic, err)
	}
	return b.subscriber(handlerWait, func(context.Context, jetstream.JetStream, string) (jetstream.Consumer, func(context.Context, watermill.LoggerAdapter), error) {
		return cons, nil, nil
	})
}

// InProgress sends JetStream's in-progress ack for m, a message received
// from a queue: its ack wait starts again.
func (b *NATS) InProgress(m *message.Message) error {
	reply := m.Metadata.Get(ackReplyHeader)
	if reply == "" {
		return fmt.Errorf("bus: message %s did not come from a queue", m.UUID)
	}
	if err := b.nc.Publish(reply, []byte("+WPI")); err != nil {
		return fmt.Errorf("bus: in progress %s: %w", m.UUID, err)
	}
	return nil
}

// Broadcast returns a subscriber whose every subscription is an ephemeral
// consumer of the messages published from then on.
func (b *NATS) Broadcast() message.Subscriber {
	sub, err := b.subscriber(10*time.Second, func(ctx context.Context, js jetstream.JetStream, topic string) (jetstream.Consumer, func(context.Context, watermill.LoggerAdapter), error) {
		streamName, err := b.streamOf(topic)
		if err != nil {
			return nil, nil, err
		}
		cons, err := js.CreateConsumer(ctx, streamName, jetstream.ConsumerConfig{
			FilterSubject:     b.subject(topic),
			AckPolicy:         jetstream.AckNonePolicy,
			DeliverPolicy:     jetstream.DeliverNewPolicy,
			InactiveThreshold: time.Minute,
		})
		if err != nil {
			return nil, nil, fmt.Errorf("bus: subscribe to %s: %w", topic, err)
		}
		name := cons.CachedInfo().Name
		return cons, func(ctx context.Context, _ watermill.LoggerAdapter) {
			_ = js.DeleteConsumer(context.WithoutCancel(ctx), streamName, name)
		}, nil
	})
	if err != nil {
		return failedSubscriber{err}
	}
	return sub
}

// subscriber makes a watermill subscriber on a connection of its own (it
// drains the connection when it closes).
func (b *NATS) subscriber(ackWait time.Duration, init wmjs.ResourceInitializer) (*wmjs.Subscriber, error) {
	nc, err := b.connect()
	if err != nil {
		return nil, err
	}
	sub, err := wmjs.NewSubscriber(wmjs.SubscriberConfig{
		Conn:                nc,
		Logger:              watermill.NopLogger{},
		AckWaitTimeout:      ackWait,
		ResourceInitializer: init,
		AckAsync:            true,
		Unmarshaler:         countingUnmarshaler{}, // DeliveredHeader, for the redeliveries metric
		// One message in hand per subscription: a slow activation never
		// holds back messages another subscription could run.
		ConsumeOptions: []jetstream.PullConsumeOpt{jetstream.PullMaxMessages(1)},
	})
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("bus: subscriber: %w", err)
	}
	b.mu.Lock()
	b.subs = append(b.subs, sub)
	b.mu.Unlock()
	return sub, nil
}

// Reclaim takes over the messages of topic that its consumer (named
// consumer, whose process is gone) holds, delivered or not: it deletes that
// consumer and hands every message left on topic to handle, acking each
// once handle returns nil. It returns how many it handled. Several
// processes may reclaim one topic at once; each message goes to one.
func (b *NATS) Reclaim(ctx context.Context, topic, consumer string, handle func(*message.Message) error) (int, error) {
	streamName, err := b.streamOf(topic)
	if err != nil {
		return 0, err
	}
	stream, err := b.js.Stream(ctx, streamName)
	if err != nil {
		return 0, fmt.Errorf("bus: stream %s: %w", streamName, err)
	}
	if err := stream.DeleteConsumer(ctx, consumer); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return 0, fmt.Errorf("bus: remove consumer %s: %w", consumer, err)
	}
	name := "reclaim-" + consumer
	cons, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable: name, FilterSubject: b.subject(topic), AckPolicy: jetstream.AckExplicitPolicy,
		AckWait: 30 * time.Second, DeliverPolicy: jetstream.DeliverAllPolicy, InactiveThreshold: time.Minute,
	})
	if err != nil {
		return 0, fmt.Errorf("bus: reclaim %s: %w", topic, err)
	}
	var unmarshal wmjs.DefaultUnmarshaler
	n := 0
	for {
		batch, err := cons.FetchNoWait(64)
		if err != nil {
			return n, fmt.Errorf("bus: reclaim %s: %w", topic, err)
		}
		got := 0
		for jm := range batch.Messages() {
			got++
			m, err := unmarshal.Unmarshal(jm)
			if err != nil {
				b.log.Error("bus: drop malformed message", "topic", topic, "err", err)
				_ = jm.Term()
				continue
			}
			if md, err := jm.Metadata(); err == nil {
				m.Metadata.Set(SeqHeader, strconv.FormatUint(md.Sequence.Stream, 10))
			}
			if err := handle(m); err != nil {
				_ = jm.Nak()
				return n, fmt.Errorf("bus: reclaim %s: %w", topic, err)
			}
			if err := jm.DoubleAck(ctx); err != nil {
				return n, fmt.Errorf("bus: reclaim %s: ack: %w", topic, err)
			}
			n++
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return n, fmt.Errorf("bus: reclaim %s: %w", topic, err)
		}
		if got > 0 {
			continue
		}
		info, err := cons.Info(ctx)
		if err != nil {
			return n, fmt.Errorf("bus: reclaim %s: %w", topic, err)
		}
		if info.NumPending == 0 && info.NumAckPending == 0 {
			_ = stream.DeleteConsumer(ctx, name)
			return n, nil
		}
		select {
		case <-ctx.Done():
			return n, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Ping reports whether the NATS server answers: the publisher's connection
// is up (not reconnecting, draining or closed) and a round trip on it
// returns (GET /readyz).
func (b *NATS) Ping(ctx context.Context) error {
	if st := b.nc.Status(); st != nats.CONNECTED { // IsConnected holds while draining
		return fmt.Errorf("nats connection is %s", st)
	}
	if err := b.nc.FlushWithContext(ctx); err != nil {
		return fmt.Errorf("nats does not answer: %w", err)
	}
	return nil
}

// Close closes the subscribers, then the publisher's connection.
func (b *NATS) Close() error {
	b.mu.Lock()
	subs := b.subs
	b.subs = nil
	b.mu.Unlock()
	var errs []error
	for _, s := range subs {
		if err := s.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := b.nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// failedSubscriber reports the error of a subscriber that could not be
// made when something subscribes.
type failedSubscriber struct{ err error }

func (f failedSubscriber) Subscribe(context.Context, string) (<-chan *message.Message, error) {
	return nil, f.err
}

func (f failedSubscriber) Close() error { return nil }
