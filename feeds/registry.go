package feeds

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/wispio/wisp/egress"
)

// Info describes a connector, in the manner of Caddy's ModuleInfo: its
// catalogue package name and the constructor of its Provider. A connector
// registers it from its own package with Register, in an init function;
// cmd/wisp imports the connectors it ships (connectors/all), and nothing
// else names them.
type Info struct {
	// Name is the catalogue package the provider serves ("mqtt"); it must
	// equal the Provider's Name.
	Name string
	// New makes the provider for one server.
	New func(Env) (Provider, error)
}

// Env is what a server hands each connector it starts.
type Env struct {
	// Log is the connector's logger (with provider=NAME).
	Log *slog.Logger
	// Egress is the policy every outbound connection the connector makes
	// on a tenant's behalf must pass (see package egress).
	Egress *egress.Policy
	// PublicURL is Wisp's base URL as outside services reach it (webhook
	// connectors build their endpoints under PublicURL/hooks/NAME/).
	PublicURL string
	// Settings are operator settings for connectors, by name, such as
	// "github-api-url" (the `wisp serve` flag of the same name); a
	// connector reads its own and ignores the rest.
	Settings map[string]string
}

// registrar is a set of connectors by name; mu guards infos.
type registrar struct {
	mu    sync.RWMutex
	infos map[string]Info
}

// registry holds the registered connectors: written by init functions
// (Register), read by servers (Registered, NewProviders). It is the one
// package-level state of feeds, as registration is the one init-time magic
// allowed.
var registry = &registrar{infos: map[string]Info{}}

// Register adds a connector. It panics on an empty or repeated name or a
// nil constructor: two connectors claiming one catalogue package is a
// programming error, found at start.
func Register(info Info) { registry.register(info) }

// Registered lists the registered connectors by name.
func Registered() []Info { return registry.registered() }

// NewProviders makes one provider of every registered connector for env
// (each with its own logger; a nil Log discards). A provider whose Name is
// not its registered name is an error.
func NewProviders(env Env) ([]Provider, error) { return registry.newProviders(env) }

func (r *registrar) register(info Info) {
	if info.Name == "" || info.New == nil {
		panic("feeds: Register needs a name and a constructor")
	}
	if strings.ContainsAny(info.Name, "/ ") {
		panic(fmt.Sprintf("feeds: connector name %q is not a package name", info.Name))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.infos[info.Name]; dup {
		panic(fmt.Sprintf("feeds: connector %q registered twice", info.Name))
	}
	r.infos[info.Name] = info
}

func (r *registrar) registered() []Info {
	r.mu.RLock()
	defer r.mu.RUnlock()
	infos := make([]Info, 0, len(r.infos))
	for _, info := range r.infos {
		infos = append(infos, info)
	}
	slices.SortFunc(infos, func(a, b Info) int { return strings.Compare(a.Name, b.Name) })
	return infos
}

func (r *registrar) newProviders(env Env) ([]Provider, error) {
	if env.Log == nil {
		env.Log = slog.New(slog.DiscardHandler)
	}
	var providers []Provider
	for _, info := range r.registered() {
		e := env
		e.Log = env.Log.With("provider", info.Name)
		p, err := info.New(e)
		if err != nil {
			return nil, fmt.Errorf("connector %s: %w", info.Name, err)
		}
		if p.Name() != info.Name {
			return nil, fmt.Errorf("connector %s: its provider calls itself %q", info.Name, p.Name())
		}
		providers = append(providers, p)
	}
	return providers, nil
}
