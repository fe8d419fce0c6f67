package couchdb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/wispio/wisp/feeds"
)

// params are the parameters the feed and the actions share.
type params map[string]json.RawMessage

// decodeParams reads an action's parameters, a JSON object.
func decodeParams(raw json.RawMessage) (params, error) {
	var p params
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("parameters are not a JSON object: %w", err)
	}
	return p, nil
}

// has tells whether a parameter is given (null counts as absent).
func (p params) has(name string) bool {
	v, ok := p[name]
	return ok && !bytes.Equal(bytes.TrimSpace(v), []byte("null"))
}

// str returns a string parameter; a number or boolean is taken in its
// JSON form ("5", "true").
func (p params) str(name string) (string, error) {
	if !p.has(name) {
		return "", nil
	}
	v := bytes.TrimSpace(p[name])
	switch v[0] {
	case '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", invalid(name, "is not a valid JSON string")
		}
		return s, nil
	case '{', '[':
		return "", invalid(name, "must be a string, not a JSON %s", kind(v))
	}
	return string(v), nil
}

// object returns a parameter holding a JSON object, given as an object or
// as a string of JSON (as `wsk -p doc '{...}'` may send it).
func (p params) object(name string) (json.RawMessage, error) {
	if !p.has(name) {
		return nil, nil
	}
	v := bytes.TrimSpace(p[name])
	if v[0] == '"' {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, invalid(name, "is not a valid JSON string")
		}
		v = bytes.TrimSpace([]byte(s))
	}
	if len(v) == 0 || v[0] != '{' || !json.Valid(v) {
		return nil, invalid(name, "must be a JSON object (or a string holding one)")
	}
	return v, nil
}

// boolean returns a parameter given as true/false or "true"/"false".
func (p params) boolean(name string) (bool, error) {
	s, err := p.str(name)
	if err != nil || s == "" {
		return false, err
	}
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		return false, invalid(name, "must be true or false, not %q", s)
	}
	return b, nil
}

func kind(v []byte) string {
	if v[0] == '{' {
		return "object"
	}
	return "array"
}

// paramError is a user's parameter error: it names the parameter and the
// reason, and is feeds.ErrInvalid.
type paramError struct{ msg string }

func (e *paramError) Error() string        { return e.msg }
func (e *paramError) Is(target error) bool { return target == feeds.ErrInvalid }

// invalid returns a paramError: "<name> <reason>".
func invalid(name, format string, args ...any) error {
	return &paramError{msg: name + " " + fmt.Sprintf(format, args...)}
}

// server is where a database lives and how to log in: the url parameter
// (or OpenWhisk's host, port and protocol), username and password.
type server struct {
	url                string // without credentials
	username, password string
	dbname             string
}

// parseServer reads the connection parameters.
func parseServer(p params) (server, error) {
	var s server
	var err error
	get := func(name string, dst *string) {
		if err == nil {
			*dst, err = p.str(name)
		}
	}
	var host, port, protocol string
	get("url", &s.url)
	get("host", &host)
	get("port", &port)
	get("protocol", &protocol)
	get("username", &s.username)
	get("password", &s.password)
	get("dbname", &s.dbname)
	if err != nil {
		return server{}, err
	}
	if s.url == "" && host != "" {
		s.url = serverURL(protocol, host, port)
	}
	if s.url == "" {
		return server{}, invalid("url", "is required (http://host:5984)")
	}
	u, perr := url.Parse(s.url)
	if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return server{}, invalid("url", "must be an http or https URL with a host, like http://host:5984")
	}
	if u.User != nil { // credentials in the URL: take them, drop them from the URL
		if s.username == "" {
			s.username = u.User.Username()
			s.password, _ = u.User.Password()
		}
		u.User = nil
		s.url = u.String()
	}
	if s.dbname == "" {
		return server{}, invalid("dbname", "is required")
	}
	return s, nil
}

// serverURL builds a URL from OpenWhisk's cloudant parameters.
func serverURL(protocol, host, port string) string {
	if protocol == "" {
		protocol = "https"
	}
	if port != "" {
		host += ":" + port
	}
	return protocol + "://" + host
}

// changesConfig is the changes feed's configuration.
type changesConfig struct {
	server
	// filter names a filter function, "ddoc/name"; queryParams go to it.
	filter      string
	queryParams map[string]string
	// since is where a new feed starts: "now" (default), "0" or a
	// sequence.
	since string
}

// changesParams declares the changes feed's parameters.
func changesParams() feeds.Params {
	return feeds.Params{
		{Name: "url", Type: feeds.TypeURL, BindTime: true, Doc: "The CouchDB server, like http://host:5984 (or give host, port and protocol); credentials in it are taken as username and password."},
		{Name: "host", Type: feeds.TypeString, BindTime: true, Doc: "The server's host name, when url is not given (OpenWhisk's cloudant parameters)."},
		{Name: "port", Type: feeds.TypeInteger, BindTime: true, Doc: "The server's port, with host."},
		{Name: "protocol", Type: feeds.TypeString, Default: "https", BindTime: true, Doc: "http or https, with host."},
		{Name: "username", Type: feeds.TypeString, BindTime: true, Doc: "The user name to log in with."},
		{Name: "password", Type: feeds.TypeString, Secret: true, BindTime: true, Doc: "The password to log in with."},
		{Name: "dbname", Type: feeds.TypeString, Required: true, BindTime: true, Doc: "The database whose changes fire the trigger."},
		{Name: "filter", Type: feeds.TypeString, Doc: "A filter function, designdoc/filtername, that selects the changes."},
		{Name: "query_params", Type: feeds.TypeObject, Doc: "Parameters of the filter function: a JSON object (or a string holding one)."},
		{Name: "since", Type: feeds.TypeString, Default: "now", Doc: "Where a new feed starts: now, 0 (the beginning) or an update sequence."},
	}
}

// Params declares the parameters of a feed (feeds.Declarer).
func (p *Provider) Params(feed string) feeds.Params {
	if feed != ChangesFeed {
		return nil
	}
	return changesParams()
}

// checkDeclared runs the declared checks, in this package's words ("dbname
// is required", "url must be a string").
func checkDeclared(p params) error {
	err := changesParams().Validate(p)
	var pe *feeds.ParamError
	switch {
	case !errors.As(err, &pe):
		return err
	case pe.Missing:
		return invalid(pe.Name, "is required")
	}
	return invalid(pe.Name, "%s", pe.Reason)
}

// parseChanges reads and checks the changes feed's parameters: the
// declared checks, then each parameter's own.
func parseChanges(p params) (changesConfig, error) {
	if err := checkDeclared(p); err != nil {
		return changesConfig{}, err
	}
	srv, err := parseServer(p)
	if err != nil {
		return changesConfig{}, err
	}
	c := changesConfig{server: srv}
	if c.filter, err = p.str("filter"); err != nil {
		return changesConfig{}, err
	}
	if c.filter != "" {
		ddoc, name, ok := strings.Cut(strings.TrimPrefix(c.filter, "_design/"), "/")
		if !ok || ddoc == "" || name == "" || strings.Contains(name, "/") {
			return changesConfig{}, invalid("filter", "must name a filter function as designdoc/filtername, not %q", c.filter)
		}
		c.filter = ddoc + "/" + name
	}
	if c.queryParams, err = queryParams(p); err != nil {
		return changesConfig{}, err
	}
	if c.since, err = p.str("since"); err != nil {
		return changesConfig{}, err
	}
	if c.since == "" {
		c.since = "now"
	}
	return c, nil
}

// queryParams reads query_params, an object of strings, numbers or
// booleans.
func queryParams(p params) (map[string]string, error) {
	obj, err := p.object("query_params")
	if err != nil || obj == nil {
		return nil, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(obj, &raw); err != nil {
		return nil, invalid("query_params", "must be a JSON object")
	}
	out := make(map[string]string, len(raw))
	for k := range raw {
		s, err := params(raw).str(k)
		if err != nil {
			return nil, invalid("query_params", "value of %q must be a string, number or boolean", k)
		}
		out[k] = s
	}
	return out, nil
}
