package deploy

import (
	"encoding/json"

	"github.com/wispio/wisp/client"
)

// Project is a parsed manifest: everything Parse could check without a
// server. Names are as written; resolution against the namespace happens
// when a Deployer plans.
type Project struct {
	Name     string
	Packages []*Package // in file order
	// Routes are the API gateway routes of the apis sections.
	Routes []*Route
	// Warnings are accepted but ignored parts of the manifest (wskdeploy
	// fields Wisp has no use for), one line each, with path and line.
	Warnings []string
}

// DefaultPackage is the package name wskdeploy reserves for entities that
// live in no package.
const DefaultPackage = "default"

// origin is where a value came from in the manifest.
type origin struct {
	Path string
	Line int
}

// Package is a package of the manifest, or a binding (Bind set) from its
// dependencies. The default package holds entities outside any package.
type Package struct {
	origin
	Name        string
	Bind        string // fully qualified package a binding refers to
	Publish     bool
	Inputs      Params
	Annotations Params
	Actions     []*Action
	Sequences   []*Sequence
	Triggers    []*Trigger
	Rules       []*Rule
}

// IsDefault tells whether p stands for "no package".
func (p *Package) IsDefault() bool { return p.Name == DefaultPackage }

// Param is one input or annotation; Type is the declared wskdeploy type
// ("" for a plain value).
type Param struct {
	origin
	Key   string
	Type  string
	Value any
}

// Params is an ordered list of inputs or annotations.
type Params []Param

func (ps Params) index(key string) int {
	for i, p := range ps {
		if p.Key == key {
			return i
		}
	}
	return -1
}

// set replaces the value of key or appends it.
func (ps Params) set(p Param) Params {
	if i := ps.index(p.Key); i >= 0 {
		ps[i] = p
		return ps
	}
	return append(ps, p)
}

// Action is an action with its code loaded: a text file, or a base64 zip of a
// folder (Binary).
type Action struct {
	origin
	Name        string
	Kind        string // as written, "nodejs@20" normalised to "nodejs:20"
	KindAt      origin
	Code        string
	Binary      bool
	Main        string
	Image       string // blackbox image (docker:)
	Inputs      Params
	Annotations Params
	Limits      Limits
}

// Limits are the action limits a manifest set; nil means the server's
// default.
type Limits struct {
	Timeout     *int // ms
	Memory      *int // MB
	Logs        *int // MB
	Concurrency *int
	At          map[string]origin // limit name → where it was set
}

// Sequence is an action that chains others; Components are names as written.
type Sequence struct {
	origin
	Name        string
	Components  []string
	Inputs      Params
	Annotations Params
}

// Trigger is a trigger, with a feed when Feed is set; with a feed its inputs
// go to the feed action, as with wsk trigger create --feed.
type Trigger struct {
	origin
	Name        string
	Feed        string
	FeedAt      origin
	Inputs      Params
	Annotations Params
	// Archive keeps the fired events for replay (Wisp's extension); nil
	// when the manifest has none.
	Archive *client.ArchivePolicy
}

// Rule links a trigger to an action; both are names as written.
type Rule struct {
	origin
	Name        string
	Trigger     string
	TriggerAt   origin
	Action      string
	ActionAt    origin
	Annotations Params

	// Filter is the rule's event filter (issue 17) as the API takes it: a
	// JSON string holding a CEL expression, or a shorthand object; nil
	// for none.
	Filter json.RawMessage

	// Delivery (see delivery.go): retries and the dead-letter trigger.
	Retry        *client.RetryPolicy
	DeadLetter   string
	DeadLetterAt origin
	Sink         string
	SinkAt       origin
}
