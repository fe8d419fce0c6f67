package invoker

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/wispio/wisp/actions/proxy"
)

// containerClient posts to action containers over keep-alive connections.
type containerClient struct {
	http *http.Client
	// tracer records a span per post; nil records none.
	tracer trace.Tracer
}

func newContainerClient() *containerClient {
	return &containerClient{http: NewHTTPClient()}
}

// unixHostSuffix marks a host that UnixURL made from a socket path.
const unixHostSuffix = ".unix-socket"

// UnixURL is the base URL of an action container served on the unix
// socket at path; the clients NewHTTPClient makes dial the socket for it
// and keep its connections apart from every other container's.
func UnixURL(path string) string {
	return "http://" + hex.EncodeToString([]byte(path)) + unixHostSuffix
}

// NewHTTPClient returns the keep-alive client for action containers: TCP
// for ordinary URLs, the socket for UnixURL ones.
func NewHTTPClient() *http.Client {
	tcp := (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	var unix net.Dialer
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err == nil && strings.HasSuffix(host, unixHostSuffix) {
			path, err := hex.DecodeString(strings.TrimSuffix(host, unixHostSuffix))
			if err != nil {
				return nil, fmt.Errorf("bad unix socket host %q: %w", host, err)
			}
			return unix.DialContext(ctx, "unix", string(path))
		}
		return tcp(ctx, network, addr)
	}
	t := &http.Transport{
		DialContext:         dial,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &http.Client{Transport: t}
}

// containerReply is a container's answer to /init or /run.
type containerReply struct {
	status int
	body   []byte
	// size is the length of the whole answer when body holds only its
	// first limit+1 bytes (the container sent more than the limit); 0
	// otherwise. It is the Content-Length when the container sent one.
	size int64
	// recycle is set when the proxy asks for the container not to be used
	// again (it could not clean up after the activation).
	recycle bool
}

// post sends body with the container's secret and returns its answer,
// reading at most limit+1 bytes of it: the container runs untrusted code.
func (c *containerClient) post(ctx context.Context, url, secret string, body []byte, limit int64) (containerReply, error) {
	ctx, span := c.span(ctx, url)
	defer span.End()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return containerReply{}, fmt.Errorf("post %s: %w", url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set(proxy.SecretHeader, secret)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return containerReply{}, fmt.Errorf("post %s: %w", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return containerReply{}, fmt.Errorf("read response of %s: %w", url, err)
	}
	r := containerReply{status: resp.StatusCode, body: b, recycle: resp.Header.Get(proxy.RecycleHeader) != ""}
	if int64(len(b)) > limit {
		r.size = max(resp.ContentLength, int64(len(b)))
	}
	return r, nil
}
