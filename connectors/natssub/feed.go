package natssub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wispio/wisp/connectors/hookfeed"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/feeds"
)

// recentDeliveries is how many JetStream messages a feed remembers (in its
// cursor) to fire once a message redelivered because its ack was lost.
const recentDeliveries = 64

// feed is one running messages feed. Its run goroutine owns the
// connection: one session after another, each a fresh connection.
type feed struct {
	p      *Provider
	params feedParams
	reg    feeds.Registration
	sink   feeds.Sink
	log    *slog.Logger
	ctx    context.Context // ends with Stop
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns
	// started is closed once the first subscription stands or the first
	// attempt failed (reported), for Start to answer.
	started chan struct{}
	once    sync.Once
}

// Stop ends the feed and waits for its goroutines, message handlers
// included (or ctx).
func (f *feed) Stop(ctx context.Context) error {
	f.cancel()
	select {
	case <-f.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop the nats feed of %s: %w", f.reg.Trigger, ctx.Err())
	}
}

// run keeps a session up until Stop, reconnecting with exponential
// backoff; each failure is reported, each (re)connection reports nil.
func (f *feed) run() {
	defer close(f.done)
	var deliveries *hookfeed.Deliveries
	if f.params.Stream != "" {
		var err error
		deliveries, err = hookfeed.NewDeliveries(f.sink, recentDeliveries, f.reg.Cursor)
		if err != nil {
			f.log.Warn("nats feed: starting without its recent message ids", "err", err)
		}
	}
	delay := f.p.cfg.RetryMin
	for {
		healthy, err := f.session(deliveries)
		f.once.Do(func() { close(f.started) })
		if f.ctx.Err() != nil {
			return
		}
		if healthy {
			delay = f.p.cfg.RetryMin
		}
		f.log.Warn("nats feed lost its server; reconnecting", "url", f.params.URL, "error", err, "retryIn", delay)
		f.sink.Report(err)
		if !sleep(f.ctx, delay) {
			return
		}
		delay = min(2*delay, f.p.cfg.RetryMax)
	}
}

// sleep waits d or until ctx ends (false).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// session is one connection: its handlers run while it is open.
type session struct {
	f   *feed
	ctx context.Context // ends with the session
	end chan error      // the first reason the session ends; buffered, 1

	// failing is set while the Sink refuses deliveries (reported), so
	// that the next accepted one reports the recovery.
	failing atomic.Bool

	mu       sync.Mutex // guards closed; held while adding to handlers
	closed   bool
	handlers sync.WaitGroup // message handlers running
}

func (s *session) stop(err error) {
	select {
	case s.end <- err:
	default:
	}
}

// enter admits a message handler unless the session is closing; the
// handler calls leave when done.
func (s *session) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.handlers.Add(1)
	return true
}

func (s *session) leave() { s.handlers.Done() }

// failed reports a refused delivery.
func (s *session) failed(err error) {
	s.failing.Store(true)
	s.f.sink.Report(err)
}

// delivered reports the recovery after refused deliveries.
func (s *session) delivered() {
	if s.failing.Swap(false) {
		s.f.sink.Report(nil)
	}
}

// close refuses new handlers and waits for the running ones (their
// context has ended).
func (s *session) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.handlers.Wait()
}

// session connects, subscribes and delivers until the connection closes
// or Stop. healthy tells whether it got as far as a subscription.
func (f *feed) session(deliveries *hookfeed.Deliveries) (healthy bool, err error) {
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	s := &session{f: f, ctx: ctx, end: make(chan error, 1)}
	opts := append(f.p.options(f.params, "wisp-feed "+f.reg.Trigger),
		nats.ClosedHandler(func(nc *nats.Conn) {
			why := errors.New("closed by the server")
			if err := nc.LastError(); err != nil {
				why = connectError(err)
			}
			s.stop(fmt.Errorf("connection to %s lost: %w", f.params.URL, why))
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			f.log.Warn("nats feed: an error from the server", "error", err)
		}))
	nc, err := nats.Connect(f.params.URL, opts...)
	if err != nil {
		return false, fmt.Errorf("connect to %s: %w", f.params.URL, connectError(err))
	}
	// Closing in this order: the running handlers see ctx end (a
	// JetStream message is then not acked: it comes again), the JetStream
	// consumption stops, no new handler is admitted and the running ones
	// are waited for, then the connection closes.
	defer nc.Close()
	defer s.close()
	if f.params.Stream == "" {
		defer cancel()
		err = s.subscribe(nc)
	} else {
		var cc jetstream.ConsumeContext
		cc, err = s.consume(nc, deliveries)
		if cc != nil {
			defer cc.Stop()
		}
		defer cancel()
	}
	if err != nil {
		return false, err
	}
	f.once.Do(func() { close(f.started) })
	f.sink.Report(nil)
	select {
	case <-f.ctx.Done():
		return true, nil
	case err := <-s.end:
		return true, err
	}
}

// subscribe makes the core NATS subscription and waits until the server
// holds it.
func (s *session) subscribe(nc *nats.Conn) error {
	fp := s.f.params
	var err error
	if fp.Queue == "" {
		_, err = nc.Subscribe(fp.Subject, s.handleCore)
	} else {
		_, err = nc.QueueSubscribe(fp.Subject, fp.Queue, s.handleCore)
	}
	if err != nil {
		return fmt.Errorf("subscribe to %q: %w", fp.Subject, err)
	}
	flushCtx, cancel := context.WithTimeout(s.ctx, s.f.p.cfg.ConnectTimeout)
	defer cancel()
	if err := nc.FlushWithContext(flushCtx); err != nil {
		return fmt.Errorf("subscribe to %q at %s: %w", fp.Subject, fp.URL, connectError(err))
	}
	if err := nc.LastError(); errors.Is(err, nats.ErrPermissionViolation) {
		return fmt.Errorf("the server refused the subscription to %q (not permitted)", fp.Subject)
	}
	return nil
}

// handleCore delivers one core NATS message, retrying with backoff while
// the Sink refuses it (core NATS cannot redeliver; the server drops
// messages for a subscriber that falls too far behind).
func (s *session) handleCore(m *nats.Msg) {
	if !s.enter() {
		return
	}
	defer s.leave()
	payload, err := firePayload(Message{Subject: m.Subject, Headers: m.Header, Reply: m.Reply}, m.Data)
	if err != nil {
		s.f.log.Warn("nats feed: dropped a message it cannot encode", "error", err)
		return
	}
	delay := s.f.p.cfg.RetryMin
	for {
		err := s.f.sink.Deliver(s.ctx, feeds.Event{Payload: payload, Attributes: &entity.EventAttributes{Type: "wisp.nats.message", Subject: m.Subject}})
		if err == nil {
			s.delivered()
			return
		}
		if s.ctx.Err() != nil {
			s.f.log.Warn("nats feed: a message lost as the feed stopped (core NATS has no redelivery)", "error", err)
			return
		}
		s.failed(fmt.Errorf("deliver a message on %s (retrying): %w", m.Subject, err))
		if !sleep(s.ctx, delay) {
			return
		}
		delay = min(2*delay, s.f.p.cfg.RetryMax)
	}
}

// jetStreamAckWait is how long a delivered message may stay unacked
// before JetStream sends it again (the Sink persists it well within);
// jetStreamPullExpiry bounds the life of each pull request.
const (
	jetStreamAckWait    = 10 * time.Second
	jetStreamPullExpiry = 5 * time.Second
)

// consume binds the trigger's durable consumer on the stream (made, or
// updated to the subject, here) and consumes it until the returned
// context is stopped.
func (s *session) consume(nc *nats.Conn, deliveries *hookfeed.Deliveries) (jetstream.ConsumeContext, error) {
	fp := s.f.params
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("jetstream at %s: %w", fp.URL, err)
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.f.p.cfg.ConnectTimeout)
	defer cancel()
	cons, err := js.CreateOrUpdateConsumer(ctx, fp.Stream, jetstream.ConsumerConfig{
		Durable:       DurableName(s.f.reg.Trigger),
		Description:   "wisp feed of " + s.f.reg.Trigger,
		FilterSubject: fp.Subject,
		AckPolicy:     jetstream.AckExplicitPolicy,
		DeliverPolicy: jetstream.DeliverNewPolicy,
		// A message handed to a pull request of a stopped feed (the
		// server keeps the request until it expires) comes back after
		// AckWait: keep both short so a restarted feed gets it soon.
		AckWait: jetStreamAckWait,
	})
	if err != nil {
		return nil, fmt.Errorf("durable consumer on stream %s for %q: %w", fp.Stream, fp.Subject, err)
	}
	handle := func(m jetstream.Msg) { s.handleJetStream(m, deliveries) }
	cc, err := cons.Consume(handle, jetstream.PullExpiry(jetStreamPullExpiry), jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		if errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) {
			s.stop(fmt.Errorf("consumer on stream %s: %w", fp.Stream, err))
			return
		}
		s.f.log.Debug("nats feed: consume", "error", err)
	}))
	if err != nil {
		return nil, fmt.Errorf("consume stream %s: %w", fp.Stream, err)
	}
	return cc, nil
}

// handleJetStream delivers one JetStream message and acks it once the
// Sink holds it; a refused delivery is negatively acked, to come again
// after a backoff (possibly after later messages).
func (s *session) handleJetStream(m jetstream.Msg, deliveries *hookfeed.Deliveries) {
	if !s.enter() {
		return
	}
	defer s.leave()
	msg := Message{Subject: m.Subject(), Headers: m.Headers()}
	id, attrs := "", &entity.EventAttributes{}
	if meta, err := m.Metadata(); err == nil {
		msg.Stream, msg.Sequence = meta.Stream, meta.Sequence.Stream
		id = meta.Stream + ":" + strconv.FormatUint(meta.Sequence.Stream, 10)
		attrs = &entity.EventAttributes{
			// A stream made anew numbers from 1 again: the stored time
			// keeps the id of each message its own.
			ID:   id + "@" + strconv.FormatInt(meta.Timestamp.UnixNano(), 10),
			Time: meta.Timestamp.UTC().Format(time.RFC3339Nano),
		}
	}
	attrs.Type, attrs.Subject, attrs.Source = "wisp.nats.message", m.Subject(), "/whisk.system/"+ProviderName+"/"+msg.Stream
	payload, err := firePayload(msg, m.Data())
	if err == nil {
		var duplicate bool
		duplicate, err = deliveries.Deliver(s.ctx, id, payload, attrs)
		if duplicate {
			s.f.log.Debug("nats feed: a redelivered message it already holds", "sequence", msg.Sequence)
		}
	}
	if err != nil {
		if s.ctx.Err() == nil {
			s.failed(fmt.Errorf("deliver message %d of stream %s (left unacknowledged for redelivery): %w", msg.Sequence, msg.Stream, err))
			_ = m.NakWithDelay(s.f.p.cfg.RetryMin)
		}
		return
	}
	s.delivered()
	if err := m.Ack(); err != nil {
		s.f.log.Warn("nats feed: ack lost; the message will come again and be recognised", "sequence", msg.Sequence, "error", err)
	}
}
