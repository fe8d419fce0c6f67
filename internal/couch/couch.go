// Package couch opens kivik clients the way every Wisp part that talks to
// CouchDB needs them: HTTP compression off in both directions (a
// CouchDB-compatible server may buffer a gzipped continuous feed), HTTP
// Basic credentials from the URL or given apart, and errors that say what
// the server answered without repeating a password. It keeps no state.
package couch

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-kivik/kivik/v4"
	kcouch "github.com/go-kivik/kivik/v4/couchdb" // registers the "couch" driver
)

// Credentials authenticate with HTTP Basic auth; empty means anonymous.
type Credentials struct {
	Username, Password string
}

// Connect returns a client of the server at rawURL (http or https; the
// couchdb:// and couchdbs:// schemes stand for them). Credentials in the
// URL are used unless creds names a user. It does not contact the server.
func Connect(rawURL string, creds Credentials) (*kivik.Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("url: %w", errors.Unwrap(err))
	}
	switch u.Scheme {
	case "http", "https":
	case "couchdb":
		u.Scheme = "http"
	case "couchdbs":
		u.Scheme = "https"
	default:
		return nil, fmt.Errorf("url %s: scheme %q is not http, https, couchdb or couchdbs", Redact(rawURL), u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("url %s: no host", Redact(rawURL))
	}
	if creds.Username == "" && u.User != nil {
		creds.Username = u.User.Username()
		creds.Password, _ = u.User.Password()
	}
	u.User = nil
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DisableCompression = true // no Accept-Encoding: gzip
	transport.ResponseHeaderTimeout = time.Minute
	opts := []kivik.Option{
		kcouch.OptionHTTPClient(&http.Client{Transport: transport}),
		kcouch.OptionNoRequestCompression(),
	}
	if creds.Username != "" {
		opts = append(opts, kcouch.BasicAuth(creds.Username, creds.Password))
	}
	c, err := kivik.New("couch", u.String(), opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", u.Redacted(), err)
	}
	return c, nil
}

// Redact returns rawURL with its password replaced by "xxxxx".
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		if i := strings.LastIndexByte(rawURL, '@'); i >= 0 {
			return "xxxxx" + rawURL[i:] // unparsable: keep only the host part
		}
		return rawURL
	}
	return u.Redacted()
}

// Status returns the HTTP status of a kivik error: 0 for nil, 500 when
// the server gave none (a network failure also reads 500 or 502).
func Status(err error) int { return kivik.HTTPStatus(err) }
