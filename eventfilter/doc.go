// Package eventfilter compiles and evaluates rule filters (issue 17): a CEL
// expression over params (the arguments the rule's action would get) and
// event (the fire's CloudEvents attributes), or the Knative shorthand
// ({"exact": …}, prefix, suffix, all, any, not), which compiles to CEL.
// A Filter is compiled once (at rule create or update, and when the rule
// index loads it) and is safe for concurrent use; every evaluation is
// bounded by a CEL cost limit. It does not know rules, triggers or fires.
package eventfilter
