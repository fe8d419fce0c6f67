// Package writebehind decorates a store.Store so that activation records are
// written in batches by one background writer instead of on the caller's
// path. Records waiting to be written are served by GetActivation and
// ListActivations from memory, so a client that reads an activation right
// after a blocking invoke finds it. Close flushes everything queued.
//
// All other Store methods pass straight through to the wrapped store.
package writebehind
