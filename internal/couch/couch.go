package couch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/go-kivik/kivik/v4"
	kcouch "github.com/go-kivik/kivik/v4/couchdb" // registers the "couch" driver

	"github.com/wispio/wisp/internal/redact"
)

// Options configure Connect.
type Options struct {
	// Username and Password authenticate with HTTP Basic auth; empty
	// means the URL's credentials, or none.
	Username, Password string
	// IdleTimeout, when set, fails a connection on which nothing arrives
	// for that long (a continuous feed's heartbeats must come faster): a
	// server or network that died silently is noticed.
	IdleTimeout time.Duration
	// Dialer, when set, makes every connection, and no proxy is used (a
	// dialer that checks an egress policy decides where connections go);
	// nil is a plain dialer and the environment's proxy.
	Dialer *net.Dialer
}

// Connect returns a client of the server at rawURL (http or https; the
// couchdb:// and couchdbs:// schemes stand for them). It does not contact
// the server.
func Connect(rawURL string, opts Options) (*kivik.Client, error) {
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
	if opts.Username == "" && u.User != nil {
		opts.Username = u.User.Username()
		opts.Password, _ = u.User.Password()
	}
	u.User = nil
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DisableCompression = true // no Accept-Encoding: gzip
	transport.ResponseHeaderTimeout = time.Minute
	dialer := opts.Dialer
	if dialer == nil {
		dialer = &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	} else {
		transport.Proxy = nil
	}
	transport.DialContext = dialer.DialContext
	if opts.IdleTimeout > 0 {
		transport.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &idleConn{Conn: conn, timeout: opts.IdleTimeout}, nil
		}
	}
	kopts := []kivik.Option{
		kcouch.OptionHTTPClient(&http.Client{Transport: transport}),
		kcouch.OptionNoRequestCompression(),
	}
	if opts.Username != "" {
		kopts = append(kopts, kcouch.BasicAuth(opts.Username, opts.Password))
	}
	c, err := kivik.New("couch", u.String(), kopts...)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", redact.URL(u.String()), redact.Wrap(err, u.String()))
	}
	return c, nil
}

// Redact returns rawURL with its user information hidden (redact.URL).
func Redact(rawURL string) string { return redact.URL(rawURL) }

// Status returns the HTTP status of a kivik error: 0 for nil, 500 when
// the server gave none (a network failure also reads 500 or 502).
func Status(err error) int { return kivik.HTTPStatus(err) }

// idleConn fails a Read that waits longer than timeout.
type idleConn struct {
	net.Conn
	timeout time.Duration
}

func (c *idleConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}
