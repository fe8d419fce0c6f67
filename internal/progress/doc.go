// Package progress reports the steps of long work on a writer: on a
// terminal one line redrawn in place with a bar ("\r"), elsewhere (CI logs,
// pipes, files) one plain line per step with its count, "[3/12] create
// action shop/price". It does not time or estimate anything. The main type
// is Reporter; Terminal says whether a writer is a terminal.
package progress
