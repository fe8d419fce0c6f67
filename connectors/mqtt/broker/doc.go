// Package broker is Wisp's optional embedded MQTT broker (mochi-mqtt), run
// by `wisp serve --mqtt HOST:PORT` so that devices can publish to Wisp
// with nothing else installed. It speaks MQTT 3.1.1 and 5 over TCP, keeps
// sessions and queued messages in memory (a restart of Wisp forgets
// them), and lets anonymous clients in unless Config.Users is set. The
// main type is Broker; the mqtt feed reaches it like any other broker.
package broker
