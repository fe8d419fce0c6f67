// Package catalog installs the system catalogue: the published packages of
// the whisk.system namespace that every namespace can read and invoke
// (today /whisk.system/utils: echo, cat, sort, head, split, date, written to
// behave like apache/openwhisk-catalog's).
//
// Its one job is Install, run at server start: it creates what is missing
// and updates actions whose embedded code changed. The actions are ordinary
// Node.js actions run by the invoker; nothing else in Wisp knows them.
package catalog
