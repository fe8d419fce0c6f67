// Package invoker runs activations: it consumes invocations from its bus
// topic, keeps a pool of action containers (cold start, warm reuse, pause
// after a grace period, removal when idle, a memory budget for all of them),
// speaks the action-container protocol (/init, /run) to them over HTTP,
// collects their logs up to the activation sentinel, and records the
// activation and publishes its completion.
//
// How containers are made is the Backend's business: invoker/process runs
// the action proxy as local processes, invoker/docker (later) as containers.
package invoker
