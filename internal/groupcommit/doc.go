// Package groupcommit shares one bbolt transaction, and so one fsync,
// among the writes that arrive while another commit is under way: group
// commit without a timer. The first writer to find no commit running
// commits at once, alone; writers that arrive meanwhile queue, and when
// that commit ends the first of them commits the whole queue in one
// transaction. Every writer returns only once its own write is durable (or
// failed). bbolt's DB.Batch instead cuts a batch every MaxBatchDelay: when
// an fsync takes longer than that delay, batches pile up behind the writer
// lock, each with a few writes and its own fsync.
package groupcommit
