package mqtt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/wispio/wisp/connectors/hookfeed"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/feeds"
)

// feed is one running messages feed. Its run goroutine owns the broker
// connection: one session after another, each a fresh paho client with
// the same client id and clean session off, so that the broker keeps the
// subscription and the messages not acknowledged in between.
type feed struct {
	p        *Provider
	params   feedParams
	clientID string
	sink     feeds.Sink
	// deliveries remembers the recent QoS 1 and 2 messages (in the feed's
	// cursor), so that one the broker sends again because the ack was
	// lost with a crash fires once.
	deliveries *hookfeed.Deliveries
	log        *slog.Logger
	cancel     context.CancelFunc
	done       chan struct{} // closed when run returns
	ready      chan struct{} // closed once the first subscription stands
	readyMu    sync.Once
}

// Stop ends the feed and waits for its goroutine (or ctx).
func (f *feed) Stop(ctx context.Context) error {
	f.cancel()
	select {
	case <-f.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop the mqtt feed (client %s): %w", f.clientID, ctx.Err())
	}
}

// run keeps a session up until ctx ends, reconnecting with exponential
// backoff; each failure is reported, each (re)connection reports nil.
func (f *feed) run(ctx context.Context) {
	defer close(f.done)
	delay := f.p.cfg.RetryMin
	for {
		healthy, err := f.session(ctx)
		if ctx.Err() != nil {
			return
		}
		if healthy {
			delay = f.p.cfg.RetryMin
		}
		f.log.Warn("mqtt feed lost its broker; reconnecting", "url", f.params.URL, "error", err, "retryIn", delay)
		f.sink.Report(err)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		delay = min(2*delay, f.p.cfg.RetryMax)
	}
}

// session connects, subscribes and delivers until the connection drops,
// a delivery fails or ctx ends. healthy tells whether it got as far as
// a working subscription and ended by the broker's doing, not by a
// failed delivery (which backs off further each time).
func (f *feed) session(ctx context.Context) (healthy bool, err error) {
	s := &session{feed: f, ctx: ctx, end: make(chan error, 1)}
	opts := f.p.clientOptions(f.params.conn, f.clientID).
		SetCleanSession(false).
		SetAutoAckDisabled(true).
		SetOrderMatters(true).
		SetDefaultPublishHandler(s.handle).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			s.stop(fmt.Errorf("connection to %s lost: %w", f.params.URL, connectError(err)))
		})
	c := paho.NewClient(opts)
	connectCtx, cancel := context.WithTimeout(ctx, f.p.cfg.ConnectTimeout)
	defer cancel()
	if err := wait(connectCtx, c.Connect()); err != nil {
		c.Disconnect(0)
		return false, fmt.Errorf("connect to %s: %w", f.params.URL, connectError(err))
	}
	// Disconnect after ctx is cancelled (Stop) or the session is over:
	// a delivery still running sees its context end and is not acked.
	defer c.Disconnect(250)
	if err := subscribe(connectCtx, c, f.params.Topic, f.params.QoS); err != nil {
		return false, err
	}
	f.log.Debug("mqtt feed subscribed", "topic", f.params.Topic, "qos", f.params.QoS)
	f.readyMu.Do(func() { close(f.ready) })
	f.sink.Report(nil)
	select {
	case <-ctx.Done():
		return true, nil
	case err := <-s.end:
		return !s.broken.Load(), err
	}
}

// session is the state of one connection. paho calls handle for one
// message at a time, in order (OrderMatters).
type session struct {
	feed *feed
	ctx  context.Context
	// broken is set once a delivery failed: later messages of this
	// session are not acknowledged either, so that the broker redelivers
	// them all, in order, to the next session.
	broken atomic.Bool
	end    chan error // the first reason the session ends; buffered, 1
}

func (s *session) stop(err error) {
	select {
	case s.end <- err:
	default:
	}
}

// handle delivers one message and acknowledges it once the sink holds it.
func (s *session) handle(_ paho.Client, m paho.Message) {
	if s.broken.Load() {
		return
	}
	f := s.feed
	if !matchTopic(f.params.Topic, m.Topic()) {
		// A subscription the session kept from an earlier topic of this
		// trigger (UPDATE changed it): not ours any more.
		m.Ack()
		return
	}
	payload, err := firePayload(m.Topic(), m.Payload(), m.Qos(), m.Retained(), m.Duplicate(), m.MessageID(), f.params.Format)
	var duplicate bool
	if err == nil {
		duplicate, err = f.deliveries.DeliverRepeatable(s.ctx, deliveryID(m), payload, m.Duplicate(), messageAttributes(m))
	}
	if duplicate {
		f.log.Debug("mqtt feed: a redelivered message it already holds", "topic", m.Topic(), "messageId", m.MessageID())
	}
	if err != nil {
		s.broken.Store(true)
		s.stop(fmt.Errorf("deliver a message on %s (left unacknowledged for redelivery): %w", m.Topic(), err))
		return
	}
	m.Ack()
}

// messageAttributes are a message's CloudEvents attributes: type
// wisp.mqtt.message, the topic as subject, QoS and retained flag as
// extensions. No id: packet ids come back for new messages, so the
// feed manager names each message by its outbox event.
func messageAttributes(m paho.Message) *entity.EventAttributes {
	return &entity.EventAttributes{
		Type: "wisp.mqtt.message", Subject: m.Topic(),
		Extensions: map[string]string{"qos": strconv.Itoa(int(m.Qos())), "retained": strconv.FormatBool(m.Retained())},
	}
}

// recentDeliveries is how many QoS 1 and 2 messages a feed remembers to
// tell a redelivery from a new message: more than a broker keeps in
// flight to one client (Mosquitto's default is 20).
const recentDeliveries = 64

// deliveryID identifies a QoS 1 or 2 message for telling a redelivery
// (DUP set, same packet id, same topic and payload) from a new one; a
// QoS 0 message has none.
func deliveryID(m paho.Message) string {
	if m.Qos() == 0 {
		return ""
	}
	h := sha256.New()
	h.Write([]byte(m.Topic()))
	h.Write([]byte{0})
	h.Write(m.Payload())
	return strconv.Itoa(int(m.MessageID())) + ":" + hex.EncodeToString(h.Sum(nil)[:8])
}
