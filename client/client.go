package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// maxResponseBytes bounds what the client reads from one response; action code
// is at most 48 MB, base64 makes that 64.
const maxResponseBytes = 128 << 20

// Config says where the API is and who calls it.
type Config struct {
	// APIHost is "host", "host:port" or a URL. Without a scheme, "host:port"
	// means http:// unless the port is 443; a bare host means https://.
	APIHost string
	// Auth is the "uuid:key" pair sent as HTTP basic authentication.
	Auth string
	// Namespace resolves relative names; "_" (the caller's own) when empty.
	Namespace string
	// APIVersion is the path version, "v1" when empty.
	APIVersion string
	// Insecure skips TLS certificate verification. It applies only when
	// HTTPClient is nil.
	Insecure bool
	// HTTPClient sends the requests; a default client when nil.
	HTTPClient *http.Client
}

// Client calls one OpenWhisk-compatible API with one identity. It is safe for
// concurrent use; it holds no mutable state after New.
type Client struct {
	base      *url.URL // scheme://host[/prefix]/api/<version>
	baseErr   error    // why APIHost could not be parsed, returned by every call
	auth      string
	namespace string
	http      *http.Client
}

// Response is the raw HTTP answer behind a call: callers that print what the
// server returned (wsk's --json) use Body as it came.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       json.RawMessage
}

// New builds a Client. An invalid APIHost is reported by every call.
func New(cfg Config) *Client {
	c := &Client{auth: cfg.Auth, namespace: cfg.Namespace, http: cfg.HTTPClient}
	if c.namespace == "" {
		c.namespace = DefaultNamespace
	}
	c.base, c.baseErr = BaseURL(cfg.APIHost, cfg.APIVersion)
	if c.http == nil {
		transport := http.DefaultTransport.(*http.Transport).Clone()
		if cfg.Insecure {
			transport.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // asked for by the user (-i)
		}
		c.http = &http.Client{Transport: transport}
	}
	return c
}

// Namespace is the namespace relative names resolve to.
func (c *Client) Namespace() string { return c.namespace }

// ParseName parses name with the client's namespace as the default.
func (c *Client) ParseName(name string) (QualifiedName, error) {
	return ParseName(name, c.namespace)
}

// BaseURL turns an API host as users write it into the API's base URL, for
// example "localhost:3233" and "v1" into http://localhost:3233/api/v1. The
// host follows Config.APIHost's rules; an empty version means "v1".
func BaseURL(host, version string) (*url.URL, error) {
	if version == "" {
		version = "v1"
	}
	host = strings.TrimSpace(host)
	if host == "" {
		return nil, fmt.Errorf("no API host configured")
	}
	var u *url.URL
	if strings.Contains(host, "://") {
		var err error
		if u, err = url.Parse(host); err != nil {
			return nil, fmt.Errorf("parse API host %q: %w", host, err)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return nil, fmt.Errorf("API host %q: scheme must be http or https", host)
		}
	} else {
		scheme := "https"
		if _, port, err := net.SplitHostPort(host); err == nil && port != "443" {
			scheme = "http"
		}
		u = &url.URL{Scheme: scheme, Host: host}
	}
	if u.Host == "" {
		return nil, fmt.Errorf("API host %q has no host", host)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/api/" + version
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	return u, nil
}

// request describes one call relative to the API base.
type request struct {
	method    string
	path      string // escaped, relative to /api/<version>
	query     url.Values
	body      any
	anonymous bool // send no Authorization header
}

// do sends r and returns the response; a non-2xx answer is an *Error along
// with the response.
func (c *Client) do(ctx context.Context, r request) (*Response, error) {
	if c.baseErr != nil {
		return nil, c.baseErr
	}
	target := strings.TrimSuffix(c.base.String(), "/") + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	var body io.Reader
	if r.body != nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r.body); err != nil {
			return nil, fmt.Errorf("encode %s %s body: %w", r.method, r.path, err)
		}
		body = &buf
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return nil, fmt.Errorf("build %s %s: %w", r.method, r.path, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "wisp-cli")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if !r.anonymous && c.auth != "" {
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(c.auth)))
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes))
	if err != nil {
		return nil, fmt.Errorf("read %s %s response: %w", r.method, r.path, err)
	}
	resp := &Response{StatusCode: res.StatusCode, Header: res.Header, Body: data}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return resp, newError(res.StatusCode, data)
	}
	return resp, nil
}

// call sends r and decodes a successful body into out.
func (c *Client) call(ctx context.Context, r request, out any) (*Response, error) {
	resp, err := c.do(ctx, r)
	if err != nil {
		return resp, err
	}
	if out != nil {
		if err := decode(resp.Body, out); err != nil {
			return resp, fmt.Errorf("decode %s %s response: %w", r.method, r.path, err)
		}
	}
	return resp, nil
}

// decode unmarshals JSON keeping numbers as json.Number, so parameter values
// print as the server sent them.
func decode(data []byte, out any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(out)
}
