// Package mqtt connects Wisp to MQTT brokers: the feed provider "mqtt"
// with its feed "messages" (/whisk.system/mqtt/messages), which fires a
// trigger for every message on a topic filter, and the builtin action
// "publish" (/whisk.system/mqtt/publish).
//
// A feed keeps a persistent session (clean session off, a client id that
// is stable across restarts) and acknowledges a QoS 1 or 2 message only
// after its Sink has made the event durable, so that messages published
// while Wisp is down or while delivery fails arrive later instead of
// being lost. It does not fire triggers itself: the feed manager does.
// The main type is Provider; package broker is the optional embedded
// broker.
package mqtt
