package bus

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	bolt "go.etcd.io/bbolt"

	"github.com/wispio/wisp/internal/groupcommit"
)

// Embedded is the bus of a single process whose queues outlive it, for
// `wisp serve` without NATS: a message published to a queue topic is in a
// bbolt file, fsynced, before Publish returns (publishes and removals that
// arrive while a commit is under way share the next one: group commit) and is removed once its consumer acks it. On open, the
// messages no consumer acked are delivered again, oldest first. So a 202
// given for an invocation or a fire survives a kill -9, as on NATS.
//
// The completions queues stay in memory (their blocking callers die with
// the process), as do broadcasts and messages marked volatile (see
// VolatileHeader) until they are published again unmarked (or marked kept:
// see KeepHeader). In one process a queue's subscriptions
// all belong to its one consumer: each message goes to one of them.
type Embedded struct {
	db *bolt.DB
	// commits group-commits the stores and removals of queued messages:
	// those that arrive while a commit is under way share the next one.
	commits   *groupcommit.Committer
	log       *slog.Logger
	broadcast *gochannel.GoChannel
	closing   chan struct{}
	wg        sync.WaitGroup // the subscriptions' goroutines

	mu     sync.Mutex // guards queues and closed
	queues map[string]*diskQueue
	closed bool
}

// redeliveryDelay is how long a nacked message waits before it is
// delivered again.
const redeliveryDelay = 100 * time.Millisecond

// OpenEmbedded opens (or creates) the embedded bus whose queues are kept
// in the bbolt file at path. wait is how long to wait for another process
// holding the file.
func OpenEmbedded(path string, wait time.Duration, log *slog.Logger) (*Embedded, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: wait})
	if err != nil {
		return nil, fmt.Errorf("bus: open the queue file %s (is another wisp serve using it?): %w", path, err)
	}
	b := &Embedded{
		db: db, commits: groupcommit.New(db), log: log, closing: make(chan struct{}), queues: map[string]*diskQueue{},
		// Broadcasts are not ordered (one process publishes none but the
		// entity changes and pings of a cluster, which it is not).
		broadcast: gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 1024}, watermill.NopLogger{}),
	}
	if err := b.load(); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return b, nil
}

// storedMessage is a queued message as the file keeps it.
type storedMessage struct {
	UUID     string            `json:"uuid"`
	Metadata map[string]string `json:"metadata,omitempty"`
	Payload  []byte            `json:"payload"`
}

// load queues again the messages left in the file, by topic (one bucket
// each), in publish order.
func (b *Embedded) load() error {
	n := 0
	err := b.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, bk *bolt.Bucket) error {
			q := b.queue(string(name))
			return bk.ForEach(func(k, v []byte) error {
				var m storedMessage
				if err := json.Unmarshal(v, &m); err != nil {
					// A record this process cannot read would block nothing
					// but would never be delivered: say so, keep it.
					b.log.Error("bus: unreadable queued message left in the queue file", "topic", string(name), "key", binary.BigEndian.Uint64(k), "err", err)
					return nil
				}
				b.enqueue(q, &queued{key: binary.BigEndian.Uint64(k), msg: m})
				n++
				return nil
			})
		})
	})
	if err != nil {
		return fmt.Errorf("bus: read the queue file: %w", err)
	}
	if n > 0 {
		b.log.Info("bus: delivering queued messages again", "messages", n)
	}
	return nil
}

// persisted reports whether topic's messages are kept in the file.
func persisted(topic string) bool { return !strings.HasPrefix(topic, TopicCompletionsPrefix) }

// isQueue reports whether topic is a queue (else a broadcast).
func isQueue(topic string) bool {
	return topic == TopicTriggers || topic == TopicCompositions || topic == TopicDeliveries || strings.HasPrefix(topic, TopicInvokerPrefix) || strings.HasPrefix(topic, TopicCompletionsPrefix)
}

// queue returns topic's queue, made on first use.
func (b *Embedded) queue(topic string) *diskQueue {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, ok := b.queues[topic]
	if !ok {
		q = &diskQueue{topic: topic, persist: persisted(topic), ids: map[string]*queued{}, wake: make(chan struct{}), feed: make(chan *queued)}
		b.queues[topic] = q
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			q.dispatch(b.closing)
		}()
	}
	return q
}

// Publish stores queue messages (on queue topics other than completions)
// and returns once they are on disk; broadcasts go to their subscribers.
// A message whose id (its JetStream message id, else its UUID) is already
// waiting or being handled in the queue is stored once.
func (b *Embedded) Publish(topic string, msgs ...*message.Message) error {
	if !isQueue(topic) {
		return b.broadcast.Publish(topic, msgs...)
	}
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return errors.New("bus: publish on a closed bus")
	}
	q := b.queue(topic)
	for _, msg := range msgs {
		if err := b.publish(q, msg); err != nil {
			return err
		}
	}
	return nil
}

func (b *Embedded) publish(q *diskQueue, msg *message.Message) error {
	id := msg.Metadata.Get(msgIDHeader)
	if id == "" {
		id = msg.UUID
	}
	volatile := !q.persist || msg.Metadata.Get(VolatileHeader) != ""
	e := &queued{id: id, volatile: volatile, msg: storedMessage{UUID: msg.UUID, Metadata: msg.Metadata, Payload: msg.Payload}}
	held, fresh := q.reserve(e)
	switch {
	case fresh && msg.Metadata.Get(KeepHeader) != "":
		// Nothing of that id waits: the message it keeps was handled.
		q.release(id)
		return nil
	case fresh:
		if !volatile {
			if err := b.store(q, e); err != nil {
				q.release(id)
				return err
			}
		}
		b.enqueue(q, e)
		return nil
	case held.volatile && !volatile:
		// Kept now: written to the file; the delivery under way (or its
		// ack) stays that of the held message.
		if err := b.store(q, held); err != nil {
			return err
		}
		q.mu.Lock()
		held.volatile = false
		q.mu.Unlock()
	}
	return nil // already queued: stored once, as NATS's dedupe window does
}

// store writes e to the file (and sets its key).
func (b *Embedded) store(q *diskQueue, e *queued) error {
	m := e.msg
	if m.Metadata[VolatileHeader] != "" || m.Metadata[KeepHeader] != "" {
		m.Metadata = maps.Clone(m.Metadata)
		delete(m.Metadata, VolatileHeader)
		delete(m.Metadata, KeepHeader)
	}
	v, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("bus: encode message %s: %w", m.UUID, err)
	}
	var key uint64
	err = b.commits.Update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists([]byte(q.topic))
		if err != nil {
			return err
		}
		if key, err = bk.NextSequence(); err != nil {
			return err
		}
		return bk.Put(seqKey(key), v)
	})
	if err != nil {
		return fmt.Errorf("bus: store message %s on %s: %w", m.UUID, q.topic, err)
	}
	q.mu.Lock()
	e.key = key
	q.mu.Unlock()
	return nil
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// ack removes a handled message from the file and the queue's ids.
func (b *Embedded) ack(q *diskQueue, e *queued) {
	q.mu.Lock()
	key := e.key
	q.mu.Unlock()
	if key != 0 {
		err := b.commits.Update(func(tx *bolt.Tx) error {
			if bk := tx.Bucket([]byte(q.topic)); bk != nil {
				return bk.Delete(seqKey(key))
			}
			return nil
		})
		if err != nil {
			// Left in the file, it is delivered again at the next start:
			// at least once, never lost.
			b.log.Error("bus: remove an acked message", "topic", q.topic, "messageId", e.msg.UUID, "err", err)
		}
	}
	q.release(e.id)
}

// Queue returns a subscriber of topic's queue: each message goes to one of
// its subscriptions, and one that is not acked comes back (after a nack,
// or at the next start). ackWait is not used: in one process a message is
// unacked only while its handler runs.
func (b *Embedded) Queue(_ context.Context, topic, _ string, _ time.Duration) (message.Subscriber, error) {
	if !isQueue(topic) {
		return nil, fmt.Errorf("bus: %q is not a queue topic", topic)
	}
	return embeddedQueue{b: b}, nil
}

// SharedQueue is Queue: in one process every consumer is this process's.
func (b *Embedded) SharedQueue(ctx context.Context, topic, consumer string, ackWait time.Duration) (message.Subscriber, error) {
	return b.Queue(ctx, topic, consumer, ackWait)
}

// Reclaim has nothing to reclaim: the embedded bus's queues have one
// process, this one, whose unacked messages come back at its next start.
// It handles no message and returns 0.
func (b *Embedded) Reclaim(context.Context, string, string, func(*message.Message) error) (int, error) {
	return 0, nil
}

// InProgress does nothing: in one process a message is unacked only while
// its handler runs, however long.
func (b *Embedded) InProgress(*message.Message) error { return nil }

// Broadcast returns the subscriber of broadcasts.
func (b *Embedded) Broadcast() message.Subscriber { return b.broadcast }

// Close ends the subscriptions (messages being handled stay in the file
// unless acked first) and closes the file.
func (b *Embedded) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	close(b.closing)
	b.mu.Unlock()
	b.wg.Wait()
	return errors.Join(b.broadcast.Close(), b.db.Close())
}

// embeddedQueue subscribes to queue topics of an Embedded bus.
type embeddedQueue struct{ b *Embedded }

// Subscribe adds a subscription to topic's queue until ctx ends or the bus
// closes.
func (s embeddedQueue) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	b := s.b
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return nil, errors.New("bus: subscribe on a closed bus")
	}
	q := b.queue(topic)
	out := make(chan *message.Message)
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer close(out)
		b.deliver(ctx, q, out)
	}()
	return out, nil
}

// Close does nothing: subscriptions end with their context or the bus.
func (embeddedQueue) Close() error { return nil }

// deliver hands q's messages one at a time to out, waiting for each to be
// acked or nacked.
func (b *Embedded) deliver(ctx context.Context, q *diskQueue, out chan<- *message.Message) {
	for {
		var e *queued
		select {
		case e = <-q.feed:
		case <-ctx.Done():
			return
		case <-b.closing:
			return
		}
		msg := message.NewMessage(e.msg.UUID, e.msg.Payload)
		for k, v := range e.msg.Metadata {
			msg.Metadata.Set(k, v)
		}
		msg.SetContext(ctx)
		select {
		case out <- msg:
		case <-ctx.Done():
			q.pushFront(e)
			return
		case <-b.closing:
			q.pushFront(e)
			return
		}
		select {
		case <-msg.Acked():
			if !q.stored(e) {
				q.release(e.id) // nothing to remove from the file
				continue
			}
			// The removal shares a commit with others and is not waited
			// for: a removal lost with a crash only delivers e again.
			b.wg.Add(1)
			go func() {
				defer b.wg.Done()
				b.ack(q, e)
			}()
		case <-msg.Nacked():
			b.redeliverLater(q, e)
		case <-b.closing:
			return // unacked: in the file for the next start
		}
	}
}

// redeliverLater puts a nacked message back after redeliveryDelay.
func (b *Embedded) redeliverLater(q *diskQueue, e *queued) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		t := time.NewTimer(redeliveryDelay)
		defer t.Stop()
		select {
		case <-t.C:
			q.push(e)
		case <-b.closing:
		}
	}()
}

// enqueue pushes e, or, when it carries a NotBeforeHeader time still to
// come, holds it (its id reserved) and pushes it then, unless the bus
// closes first: it is in the file for the next start.
func (b *Embedded) enqueue(q *diskQueue, e *queued) {
	wait := time.Until(NotBefore(e.msg.Metadata))
	if wait <= 0 {
		q.push(e)
		return
	}
	q.hold(e)
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
			q.push(e)
		case <-b.closing:
		}
	}()
}

// queued is one message of a queue.
type queued struct {
	// key is its key in the file, 0 while it is not there (the queue's
	// mutex guards it and volatile).
	key      uint64
	volatile bool
	id       string // its id for dedupe
	msg      storedMessage
}

// stored reports whether e is in the file (its key is set).
func (q *diskQueue) stored(e *queued) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return e.key != 0
}

// diskQueue is the in-memory order of one topic's queued messages.
type diskQueue struct {
	topic   string
	persist bool

	mu    sync.Mutex // guards ready, ids, wake and holding
	ready []*queued
	// holding is set while dispatch has taken the oldest message from
	// ready and not yet handed it to a subscription.
	holding bool
	// ids are the messages waiting or being handled, by id.
	ids  map[string]*queued
	wake chan struct{} // closed and replaced when a message is pushed
	// feed hands the oldest waiting message to whichever subscription is
	// free; dispatch is its one sender.
	feed chan *queued
}

// dispatch feeds the waiting messages, oldest first, to the queue's
// subscriptions until closing is closed.
func (q *diskQueue) dispatch(closing <-chan struct{}) {
	for {
		e, ok := q.next(closing)
		if !ok {
			return
		}
		select {
		case q.feed <- e:
		case <-closing:
			return
		}
		q.mu.Lock()
		q.holding = false
		q.mu.Unlock()
	}
}

// reserve claims e's id; when a message with it is already queued it
// returns that one and false.
func (q *diskQueue) reserve(e *queued) (*queued, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if held, ok := q.ids[e.id]; ok {
		return held, false
	}
	q.ids[e.id] = e
	return e, true
}

func (q *diskQueue) release(id string) {
	q.mu.Lock()
	delete(q.ids, id)
	q.mu.Unlock()
}

func (q *diskQueue) push(e *queued) { q.add(e, false) }

func (q *diskQueue) pushFront(e *queued) { q.add(e, true) }

func (q *diskQueue) add(e *queued, front bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.claim(e)
	if len(q.ready) == 0 && !q.holding {
		// Nothing is ahead of e: hand it straight to a subscription that
		// waits, if one does, without waking dispatch (one goroutine hop
		// less on the way to the consumer).
		select {
		case q.feed <- e:
			return
		default:
		}
	}
	if front {
		q.ready = append([]*queued{e}, q.ready...)
	} else {
		q.ready = append(q.ready, e)
	}
	close(q.wake)
	q.wake = make(chan struct{})
}

// hold claims the id of e, a message not ready yet.
func (q *diskQueue) hold(e *queued) {
	q.mu.Lock()
	q.claim(e)
	q.mu.Unlock()
}

// claim sets the id of a message loaded from the file and reserves it; the
// caller holds q.mu.
func (q *diskQueue) claim(e *queued) {
	if e.id == "" {
		e.id = e.msg.Metadata[msgIDHeader]
		if e.id == "" {
			e.id = e.msg.UUID
		}
		q.ids[e.id] = e
	}
}

// next takes the oldest waiting message, blocking until there is one;
// false when closing is closed first.
func (q *diskQueue) next(closing <-chan struct{}) (*queued, bool) {
	for {
		q.mu.Lock()
		if len(q.ready) > 0 {
			e := q.ready[0]
			q.ready[0] = nil
			q.ready = q.ready[1:]
			q.holding = true
			q.mu.Unlock()
			return e, true
		}
		wake := q.wake
		q.mu.Unlock()
		select {
		case <-wake:
		case <-closing:
			return nil, false
		}
	}
}
