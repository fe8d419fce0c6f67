// Package server assembles Wisp's roles into one running process: it opens
// the store, starts the bus and its router, the invoker with its backend, the
// controller and the HTTP API, and shuts them down in order. cmd/wisp, the
// end-to-end tests and the bench harness all start Wisp through it.
//
// It holds wiring only; each role's logic lives in its own package. Main
// type: Server.
//
// # Shapes
//
// One process (no --bus) runs all roles on the embedded bus: invoker
// invoker0, controller controller0. A cluster (--bus nats://...) runs the
// roles --role names on NATS: invoker and controller named after the node,
// a builtin-only invoker "feeds" beside the feed manager, and a health
// watcher on each controller. Both shapes are built from the same calls on
// bus.Bus (Queue, SharedQueue, Broadcast, Reclaim), never from the
// concrete bus: on the embedded bus SharedQueue is Queue and Reclaim has
// nothing to take over.
//
// # Who acks what
//
// Every queued message is acked once its work is stored, so a process that
// dies leaves its work to be delivered again; docs/ARCHITECTURE.md's table
// "Who acks what, and when" says the same, with the crash cases.
//
//   - invoker.<id> (queue): published by Controller.Invoke and, for a
//     silent invoker, Watcher.resend; consumed by Invoker.Consume
//     (consumer invoker-<id>, Queue); acked after Run and
//     WriteActivations, nacked if the write failed.
//   - completions.<controller> (queue): published by the invoker when a
//     run ends; consumed by Controller.onCompletion on the router (Queue,
//     ack wait 30 s); acked when the handler returns.
//   - triggers (queue): published by Firer (API and feed fires); consumed
//     by Firer.HandleQueued through consumeShared (SharedQueue, ack wait
//     20 s); acked once the rules' invocations are published and the
//     trigger activation is written, else nacked.
//   - compositions (queue): published by the Activator for non-blocking
//     sequences and conductors, and in a cluster blocking ones too;
//     consumed by Activator.HandleQueued through consumeShared (SharedQueue,
//     ack wait routing.CompositionAckWait, kept by keptInProgress every
//     routing.CompositionProgress); acked once the composition ran and its
//     record is written (and sent to the waiting controller).
//   - deliveries (queue): published by the invoker (routing.PublishOutcome,
//     the outcome of a rule's attempt with a delivery policy, before the
//     invocation's ack) and by Firer.schedule (a retry, not before its
//     backoff); consumed by Firer.HandleDelivery through consumeShared
//     (SharedQueue, ack wait routing.DeliveriesAckWait); acked once the
//     next step (retry, attempt or dead-letter fire) is stored.
//   - health (broadcast): published by Invoker.Ping; consumed by
//     Watcher.Run; acked on receipt.
//   - entities (broadcast): published by Triggers.Announce; consumed by
//     routing.SyncIndex; acked once the index is updated.
//   - The feed outbox (the store, not the bus): written by the feed
//     manager when a connector's Sink.Deliver returns nil (only then does
//     the connector ack its source); deleted once Firer.Fire returned.
package server
