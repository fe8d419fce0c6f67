package feeds

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// namedProvider is a Provider that only has a name: the registry's tests
// never start its feeds.
type namedProvider string

func (p namedProvider) Name() string    { return string(p) }
func (p namedProvider) Feeds() []string { return nil }
func (p namedProvider) Validate(context.Context, string, map[string]json.RawMessage) error {
	return nil
}
func (p namedProvider) Start(context.Context, Registration, Sink) (Feed, error) {
	return nil, errors.New("namedProvider starts no feed")
}

// infoOf registers a connector whose provider calls itself provider.
func infoOf(name, provider string) Info {
	return Info{Name: name, New: func(Env) (Provider, error) { return namedProvider(provider), nil }}
}

// panicOf returns what f panicked with, "" when it returned.
func panicOf(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg, _ = r.(string)
			if msg == "" {
				msg = "non-string panic"
			}
		}
	}()
	f()
	return ""
}

func TestRegistryRegisterPanics(t *testing.T) {
	tests := []struct {
		name  string
		infos []Info
		want  string
	}{
		{"EmptyName", []Info{infoOf("", "x")}, "needs a name"},
		{"NilConstructor", []Info{{Name: "x"}}, "needs a name and a constructor"},
		{"PathName", []Info{infoOf("a/b", "a/b")}, `"a/b" is not a package name`},
		{"Duplicate", []Info{infoOf("mqtt", "mqtt"), infoOf("mqtt", "mqtt")}, `"mqtt" registered twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &registrar{infos: map[string]Info{}}
			got := panicOf(func() {
				for _, info := range tt.infos {
					r.register(info)
				}
			})
			if !strings.Contains(got, tt.want) {
				t.Fatalf("panic %q, want one containing %q", got, tt.want)
			}
		})
	}
	// The package's Register checks the same, before touching the registry.
	if got := panicOf(func() { Register(infoOf("", "x")) }); !strings.Contains(got, "needs a name") {
		t.Fatalf("Register with no name: panic %q", got)
	}
}

func TestRegistryNewProviders(t *testing.T) {
	r := &registrar{infos: map[string]Info{}}
	r.register(infoOf("b", "b"))
	r.register(infoOf("a", "a"))
	var gotEnv Env
	r.register(Info{Name: "c", New: func(env Env) (Provider, error) { gotEnv = env; return namedProvider("c"), nil }})
	ps, err := r.newProviders(Env{PublicURL: "http://wisp", Settings: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range ps {
		names = append(names, p.Name())
	}
	if strings.Join(names, ",") != "a,b,c" {
		t.Fatalf("providers %v, want a,b,c in name order", names)
	}
	if gotEnv.Log == nil || gotEnv.PublicURL != "http://wisp" || gotEnv.Settings["k"] != "v" {
		t.Fatalf("constructor got env %+v, want a logger, the public URL and the settings", gotEnv)
	}

	r.register(infoOf("d", "not-d"))
	if _, err := r.newProviders(Env{}); err == nil || !strings.Contains(err.Error(), `connector d: its provider calls itself "not-d"`) {
		t.Fatalf("name mismatch: error %v", err)
	}

	failing := &registrar{infos: map[string]Info{}}
	failing.register(Info{Name: "e", New: func(Env) (Provider, error) { return nil, errors.New("api url: bad") }})
	if _, err := failing.newProviders(Env{}); err == nil || err.Error() != "connector e: api url: bad" {
		t.Fatalf("failing constructor: error %v", err)
	}
}
