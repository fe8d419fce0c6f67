package couch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
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
	// MaxBody, when set, bounds every answer's body, and MaxLine every
	// line of one (a continuous changes feed is one row a line): reading
	// past either fails with a *TooLargeError. The server is whoever the
	// URL names, often a tenant's choice.
	MaxBody int64
	MaxLine int
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
	var rt http.RoundTripper = transport
	if opts.MaxBody > 0 || opts.MaxLine > 0 {
		rt = &limitedTransport{base: transport, maxBody: opts.MaxBody, maxLine: opts.MaxLine}
	}
	kopts := []kivik.Option{
		kcouch.OptionHTTPClient(&http.Client{Transport: rt}),
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

// TooLargeError is an answer over Options.MaxBody or MaxLine.
type TooLargeError struct {
	What  string // "an answer" or "a line"
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the server sent %s over the limit of %d bytes", e.What, e.Limit)
}

// limitedTransport bounds the answers of base (Options.MaxBody, MaxLine).
type limitedTransport struct {
	base    http.RoundTripper
	maxBody int64
	maxLine int
}

func (t *limitedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, maxBody: t.maxBody, maxLine: t.maxLine}
	return resp, nil
}

// limitedBody fails a Read that takes the body past maxBody bytes, or a
// line past maxLine (0: no bound).
type limitedBody struct {
	io.ReadCloser
	maxBody, read int64
	maxLine, line int   // line: the bytes since the last newline
	err           error // set once the answer went over a limit
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.ReadCloser.Read(p)
	b.read += int64(n)
	if b.maxBody > 0 && b.read > b.maxBody {
		return 0, b.fail(&TooLargeError{What: "an answer", Limit: b.maxBody})
	}
	if b.maxLine > 0 {
		chunk := p[:n]
		for {
			i := bytes.IndexByte(chunk, '\n')
			if i < 0 {
				b.line += len(chunk)
				break
			}
			if b.line+i > b.maxLine {
				return 0, b.fail(&TooLargeError{What: "a line", Limit: int64(b.maxLine)})
			}
			b.line, chunk = 0, chunk[i+1:]
		}
		if b.line > b.maxLine {
			return 0, b.fail(&TooLargeError{What: "a line", Limit: int64(b.maxLine)})
		}
	}
	return n, err
}

// fail closes the answer, so that its connection is not kept for a
// server sending on, and makes every later Read fail with err.
func (b *limitedBody) fail(err error) error {
	b.err = err
	_ = b.ReadCloser.Close()
	return err
}
