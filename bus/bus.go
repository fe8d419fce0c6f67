// Package bus connects Wisp's roles. In one process they meet on the
// embedded bus (queues kept in a bbolt file in the data folder, broadcasts
// on watermill's GoChannel); across machines on NATS JetStream through
// watermill-nats. Both are a Bus: a watermill publisher plus subscribers
// for the two ways Wisp consumes a topic. On both, a queued message
// outlives the process that published it, and its consumer acks it only
// once its work is stored.
//
//   - A queue (invoker.<id>, triggers) hands each message to one
//     subscription of one consumer. A message stays until it is acked (on
//     NATS a durable consumer of a work-queue stream), so work accepted by
//     a process that dies is delivered again.
//   - A broadcast (health, entities) gives every subscription the messages
//     published after it subscribed.
//
// Streams are created explicitly when the bus connects (watermill's
// JetStream subscriber does not create them), and every published message
// carries its UUID as the JetStream message id (Nats-Msg-Id), so a publish
// repeated within the duplicate window, such as the rule activations of a
// fire delivered twice, is stored once.
package bus

import (
	"context"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// Topics and topic prefixes.
const (
	// TopicInvokerPrefix + invoker id: invocations for one invoker (queue).
	TopicInvokerPrefix = "invoker."
	// TopicCompletionsPrefix + controller id: finished activations for the
	// controller waiting for them (queue).
	TopicCompletionsPrefix = "completions."
	// TopicTriggers: accepted trigger fires, processed by any controller
	// (queue).
	TopicTriggers = "triggers"
	// TopicCompositions: accepted non-blocking sequence and conductor
	// activations, run by any controller (queue).
	TopicCompositions = "compositions"
	// TopicDeliveries: the outcomes of rule activations with a delivery
	// policy, and their scheduled retries (queue; see NotBeforeHeader).
	TopicDeliveries = "deliveries"
	// TopicHealth: invokers' pings (broadcast).
	TopicHealth = "health"
	// TopicEntities: changes of entities the controllers index (broadcast).
	TopicEntities = "entities"
	// TopicMetrics: what each process recorded for the namespaces' metrics
	// view, for the others (broadcast).
	TopicMetrics = "metrics"
)

// Bus is the message bus of one process.
type Bus interface {
	message.Publisher
	// Queue returns a subscriber for a queue topic on behalf of the named
	// consumer. Every Subscribe on it adds a subscription of the same
	// consumer: on a durable bus, messages are spread over them, so a
	// consumer subscribes n times to handle n messages at once. ackWait is
	// how long a delivered message may stay unacked, and without an
	// InProgress, before it is delivered again (durable bus only); the
	// subscription itself waits for its handler however long it runs.
	Queue(ctx context.Context, topic, consumer string, ackWait time.Duration) (message.Subscriber, error)
	// SharedQueue is Queue for a consumer that every process of a role
	// shares (the controllers' triggers and compositions): joining it
	// leaves the other processes' deliveries alone, where Queue takes the
	// consumer over as this process's own.
	SharedQueue(ctx context.Context, topic, consumer string, ackWait time.Duration) (message.Subscriber, error)
	// Reclaim takes over the messages the named consumer of topic holds,
	// its process being gone, handing each to handle and acking it once
	// handle returns nil; it returns how many it handled. On a bus of one
	// process there is no other process to reclaim from.
	Reclaim(ctx context.Context, topic, consumer string, handle func(*message.Message) error) (int, error)
	// InProgress tells the bus that the handler of m, a message of a
	// queue, is still at work on it: on a durable bus its ack wait starts
	// again (JetStream's in-progress ack), so a live process keeps a long
	// task while one that died has it delivered again an ack wait after
	// its last sign of life. The embedded bus has no ack wait.
	InProgress(m *message.Message) error
	// Broadcast returns a subscriber for broadcast topics.
	Broadcast() message.Subscriber
	// Close closes the bus's connections.
	Close() error
}

// InvokerTopic is the queue an invoker consumes its invocations from.
func InvokerTopic(invokerID string) string { return TopicInvokerPrefix + invokerID }

// CompletionsTopic is the queue a controller receives completions on.
func CompletionsTopic(controllerID string) string { return TopicCompletionsPrefix + controllerID }

// NewMessage returns a message whose UUID is id, also its JetStream message
// id for deduplication.
func NewMessage(id string, payload []byte) *message.Message {
	m := message.NewMessage(id, payload)
	m.Metadata.Set(msgIDHeader, id)
	return m
}

// VolatileHeader is the metadata key that marks a message its publisher
// does not need kept beyond the process: a blocking call's invocation,
// whose caller dies with the process too. The embedded bus keeps such a
// message in memory until the same id is published without the mark
// (the caller stopped waiting and was given a 202); NATS stores it anyway.
const VolatileHeader = "Wisp-Volatile"

// MarkVolatile marks m with VolatileHeader.
func MarkVolatile(m *message.Message) { m.Metadata.Set(VolatileHeader, "1") }

// KeepHeader is the metadata key of a message that keeps one published
// volatile before (same id): the embedded bus writes the waiting message
// to its file, and drops the keeping one when no message of that id waits
// any more (its consumer handled and acked it, so there is nothing left to
// keep and it must not run again). NATS stores every message anyway: there
// the keeping one is a duplicate its message id drops.
const KeepHeader = "Wisp-Keep"

// MarkKept marks m with KeepHeader.
func MarkKept(m *message.Message) { m.Metadata.Set(KeepHeader, "1") }

// SetMessageID sets the JetStream message id of m, when it must differ
// from its UUID (a message published again on purpose).
func SetMessageID(m *message.Message, id string) { m.Metadata.Set(msgIDHeader, id) }

// NotBeforeHeader is the metadata key of a queued message's earliest
// delivery time (Unix milliseconds), for a scheduled retry. The embedded
// bus holds such a message back until then, also across a restart; on
// NATS it is delivered at once and its consumer waits (see NotBefore).
const NotBeforeHeader = "Wisp-Not-Before"

// SetNotBefore marks m not to be delivered before t.
func SetNotBefore(m *message.Message, t time.Time) {
	// Milliseconds, rounded up: a message is never due before t.
	ms := t.UnixMilli()
	if time.UnixMilli(ms).Before(t) {
		ms++
	}
	m.Metadata.Set(NotBeforeHeader, strconv.FormatInt(ms, 10))
}

// NotBefore is the earliest delivery time of a message with metadata md;
// zero when it has none.
func NotBefore(md map[string]string) time.Time {
	v := md[NotBeforeHeader]
	if v == "" {
		return time.Time{}
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}
