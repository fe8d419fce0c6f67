// Package writebehind decorates a store.Store so that activation records are
// written in batches by one background writer instead of on the caller's
// path. Records waiting to be written are served by GetActivation and
// ListActivations from memory, so a client that reads an activation right
// after a blocking invoke finds it. Close flushes everything queued.
//
// The writer's group commit waits longer while nobody blocks on a queued
// record (20 ms: each commit's fsyncs slow the activations running beside
// it) than once a WriteActivations caller does (2 ms), and writes at once
// when 64 records are queued.
//
// All other Store methods pass straight through to the wrapped store.
package writebehind
