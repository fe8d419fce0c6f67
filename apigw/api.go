package apigw

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/wispio/wisp/entity"
)

// Methods are the operations an API route can serve, as OpenWhisk's CLI
// accepts them.
var Methods = []string{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}

// ResponseTypes are the web action extensions a route can call.
var ResponseTypes = []string{"html", "http", "json", "svg", "text"}

// DefaultClientIDHeader is the header a client id travels in when the
// swagger's apiKey scheme names none.
const DefaultClientIDHeader = "X-IBM-Client-Id"

// Table is one namespace's APIs, stored as one document so that a request
// reads a single record. Its routes are compiled when it is decoded or
// changed; a Table read from a cache is shared and must not be modified
// (use Clone).
type Table struct {
	APIs []*API `json:"apis"`
}

// API is one base path of a namespace.
type API struct {
	BasePath string `json:"basePath"`
	// Name is the API's title (wsk api create -n); it defaults to BasePath.
	Name   string  `json:"name"`
	Routes []Route `json:"routes"`
	CORS   CORS    `json:"cors"`
	// Security, when set, requires a known client id on every request.
	Security *Security `json:"security,omitempty"`
	// RateLimit, when set, caps the requests this API answers.
	RateLimit *RateLimit `json:"rateLimit,omitempty"`
	Updated   int64      `json:"updated"`
}

// Route maps a relative path and a method to a web action.
type Route struct {
	// Path is relative to the base path ("/books/{id}").
	Path        string `json:"path"`
	Method      string `json:"method"` // upper case
	OperationID string `json:"operationId"`
	Action      Target `json:"action"`
	// ResponseType is the web action extension: json, http, html, text, svg.
	ResponseType string `json:"responseType"`
	// Parameters are the swagger parameters of the operation, kept for
	// export.
	Parameters json.RawMessage `json:"parameters,omitempty"`
	// SecureKey is the action's require-whisk-auth value, sent as
	// X-Require-Whisk-Auth.
	SecureKey json.RawMessage `json:"secureKey,omitempty"`
	// Managed, when set, names the wskdeploy project that owns the route
	// (deploy's managed annotation value), carried as x-wisp-managed so
	// that wisp deploy and undeploy leave hand-made routes alone.
	Managed json.RawMessage `json:"managed,omitempty"`

	segments []string // Path split on "/", compiled
}

// Target is the web action a route calls.
type Target struct {
	Namespace string `json:"namespace"`
	Package   string `json:"package,omitempty"`
	Name      string `json:"name"`
}

// String is the action's fully qualified name.
func (t Target) String() string {
	if t.Package == "" {
		return "/" + t.Namespace + "/" + t.Name
	}
	return "/" + t.Namespace + "/" + t.Package + "/" + t.Name
}

// CORS is the API's cross-origin policy. Enabled (OpenWhisk's default)
// answers preflight requests and adds the headers to every response; the
// fields override the defaults of web actions.
type CORS struct {
	Enabled bool   `json:"enabled"`
	Origin  string `json:"origin,omitempty"`
	Methods string `json:"methods,omitempty"`
	Headers string `json:"headers,omitempty"`
}

// Security requires a client id, one of ClientIDs, in Header.
type Security struct {
	// Scheme is the securityDefinitions entry it came from.
	Scheme    string   `json:"scheme"`
	Header    string   `json:"header"`
	ClientIDs []string `json:"clientIds"`
}

// RateLimit allows Rate requests per Units of Unit (OpenWhisk's
// x-ibm-rate-limit).
type RateLimit struct {
	Rate  int    `json:"rate"`
	Unit  string `json:"unit"`
	Units int    `json:"units"`
}

// Period is the window the rate applies to.
func (l RateLimit) Period() time.Duration {
	return unitDurations[l.Unit] * time.Duration(max(l.Units, 1))
}

var unitDurations = map[string]time.Duration{
	"second": time.Second, "minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour,
}

// UnmarshalJSON decodes a stored table and compiles its routes.
func (t *Table) UnmarshalJSON(b []byte) error {
	type plain Table
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*t = Table(p)
	t.compile()
	return nil
}

// compile splits route paths and orders APIs longest base path first, so
// that the most specific base path matches.
func (t *Table) compile() {
	for _, a := range t.APIs {
		for i := range a.Routes {
			a.Routes[i].segments = splitPath(a.Routes[i].Path)
		}
	}
	sort.SliceStable(t.APIs, func(i, j int) bool {
		if len(t.APIs[i].BasePath) != len(t.APIs[j].BasePath) {
			return len(t.APIs[i].BasePath) > len(t.APIs[j].BasePath)
		}
		return t.APIs[i].BasePath < t.APIs[j].BasePath
	})
}

// Clone returns a deep enough copy of t to change.
func (t *Table) Clone() *Table {
	out := &Table{APIs: make([]*API, 0, len(t.APIs))}
	for _, a := range t.APIs {
		c := *a
		c.Routes = append([]Route(nil), a.Routes...)
		out.APIs = append(out.APIs, &c)
	}
	return out
}

// Lookup returns the API with this base path, or the first one named so
// (a name is anything not starting with "/", as wsk api get takes it).
func (t *Table) Lookup(basePathOrName string) *API {
	for _, a := range t.APIs {
		if strings.HasPrefix(basePathOrName, "/") && a.BasePath == basePathOrName {
			return a
		}
	}
	for _, a := range t.APIs {
		if !strings.HasPrefix(basePathOrName, "/") && a.Name == basePathOrName {
			return a
		}
	}
	return nil
}

// Sorted returns the APIs in base path order.
func (t *Table) Sorted() []*API {
	out := append([]*API(nil), t.APIs...)
	sort.Slice(out, func(i, j int) bool { return out[i].BasePath < out[j].BasePath })
	return out
}

// Put adds api, replacing the API with the same base path.
func (t *Table) Put(api *API) {
	for i, a := range t.APIs {
		if a.BasePath == api.BasePath {
			t.APIs[i] = api
			t.compile()
			return
		}
	}
	t.APIs = append(t.APIs, api)
	t.compile()
}

// MaxRoutes bounds the routes of one namespace's APIs, and MaxTableSize
// the bytes of its stored table: every gateway request (unauthenticated)
// scans the routes of its namespace, and every change rewrites the table.
const (
	MaxRoutes    = 1000
	MaxTableSize = 4 << 20
)

// CheckLimits refuses a table over MaxRoutes or MaxTableSize as too large
// (413), naming apidoc: a change that would grow a namespace's APIs past
// them is not stored.
func (t *Table) CheckLimits() error {
	n := 0
	for _, a := range t.APIs {
		n += len(a.Routes)
	}
	if n > MaxRoutes {
		return &entity.FieldError{Field: "apidoc", TooLarge: true,
			Reason: fmt.Sprintf("the namespace's APIs would have %d routes, more than the limit of %d", n, MaxRoutes)}
	}
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("measure the APIs: %w", err)
	}
	if len(b) > MaxTableSize {
		return &entity.FieldError{Field: "apidoc", TooLarge: true,
			Reason: fmt.Sprintf("the namespace's APIs would take %d bytes, more than the limit of %d bytes", len(b), MaxTableSize)}
	}
	return nil
}

// Remove deletes the API with this base path.
func (t *Table) Remove(basePath string) {
	out := t.APIs[:0]
	for _, a := range t.APIs {
		if a.BasePath != basePath {
			out = append(out, a)
		}
	}
	t.APIs = out
}

// setRoute adds r to the API, replacing the route with the same path and
// method (OpenWhisk's createApi overwrites an operation).
func (a *API) setRoute(r Route) {
	for i := range a.Routes {
		if a.Routes[i].Path == r.Path && a.Routes[i].Method == r.Method {
			a.Routes[i] = r
			return
		}
	}
	a.Routes = append(a.Routes, r)
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}
