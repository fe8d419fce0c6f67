// Package natssub connects Wisp to NATS: the feed provider "nats" with its
// feed "messages" (/whisk.system/nats/messages), which fires a trigger once
// for every message on a NATS subject.
//
// Without the stream parameter the feed is a core NATS subscription
// (optionally in a queue group): core NATS has no acknowledgements, so
// delivery is at most once -- a message published while Wisp is down, or
// dropped by the server because the feed fell behind, is lost. With stream
// the feed is a JetStream durable consumer that acknowledges a message
// only after its Sink has made the event durable, so that nothing is lost.
// It does not fire triggers itself: the feed manager does. The main type is
// Provider; register.go registers it with package feeds.
package natssub
