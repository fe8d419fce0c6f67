package actions

import (
	"runtime"
	"sort"
	"strings"
)

// Runtime describes one exec kind.
type Runtime struct {
	Kind       string `json:"kind"`
	Default    bool   `json:"default"`
	Deprecated bool   `json:"deprecated"`
	// Image is the container image that runs this kind (Docker backend).
	Image string `json:"image,omitempty"`
}

// Family is the part of a kind before the colon ("nodejs" of "nodejs:20").
func Family(kind string) string {
	f, _, _ := strings.Cut(kind, ":")
	return f
}

// Kinds is the table of runtimes, grouped by family. It is immutable after
// construction and safe for concurrent use.
type Kinds struct {
	byKind   map[string]Runtime
	defaults map[string]string // family → default kind
}

// DefaultKinds returns the runtimes Wisp ships.
func DefaultKinds() *Kinds {
	return NewKinds([]Runtime{
		{Kind: "nodejs:20", Default: true, Image: "wisp/action-nodejs-v20"},
		{Kind: "python:3", Default: true, Image: "wisp/action-python-v3"},
		{Kind: "native", Default: true, Image: "wisp/action-native"},
		{Kind: "java:17", Default: true, Image: "wisp/action-java-v17"},
		{Kind: GoKind(), Default: true, Image: "wisp/action-go-v" + strings.TrimPrefix(GoKind(), "go:")},
		{Kind: "ruby:3", Default: true, Image: "wisp/action-ruby-v3"},
		{Kind: "php:8", Default: true, Image: "wisp/action-php-v8"},
	})
}

// GoKind is the go kind, named after the Go that built this binary
// ("go:1.26" of go1.26.8), which is the toolchain the go image copies on
// the machines Wisp is built on; "go:1" when the version says no more.
func GoKind() string {
	v := strings.TrimPrefix(runtime.Version(), "go")
	major, rest, ok := strings.Cut(v, ".")
	minor, _, _ := strings.Cut(rest, ".")
	if !ok || major == "" || minor == "" || strings.ContainsAny(major+minor, " -+abcdefghijklmnopqrstuvwxyz") {
		return "go:1"
	}
	return "go:" + major + "." + minor
}

// NewKinds builds a table from rs; the first runtime of a family marked
// Default is its default.
func NewKinds(rs []Runtime) *Kinds {
	k := &Kinds{byKind: make(map[string]Runtime, len(rs)), defaults: map[string]string{}}
	for _, r := range rs {
		k.byKind[r.Kind] = r
		if _, ok := k.defaults[Family(r.Kind)]; r.Default && !ok {
			k.defaults[Family(r.Kind)] = r.Kind
		}
	}
	return k
}

// Resolve maps a requested kind to a concrete one: "nodejs:default" and
// "nodejs" resolve to the family's default. It reports false for an unknown
// kind.
func (k *Kinds) Resolve(kind string) (string, bool) {
	if _, ok := k.byKind[kind]; ok {
		return kind, true
	}
	family, version, _ := strings.Cut(kind, ":")
	if version == "" || version == "default" {
		d, ok := k.defaults[family]
		return d, ok
	}
	return "", false
}

// Get returns the runtime of a concrete kind.
func (k *Kinds) Get(kind string) (Runtime, bool) {
	r, ok := k.byKind[kind]
	return r, ok
}

// ByFamily lists the runtimes grouped by family, as GET /api/v1 shows them.
func (k *Kinds) ByFamily() map[string][]Runtime {
	out := map[string][]Runtime{}
	for _, r := range k.byKind {
		out[Family(r.Kind)] = append(out[Family(r.Kind)], r)
	}
	for _, rs := range out {
		sort.Slice(rs, func(i, j int) bool { return rs[i].Kind < rs[j].Kind })
	}
	return out
}
