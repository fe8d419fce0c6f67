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
)

// containerClient posts to action containers over keep-alive connections.
type containerClient struct {
	http *http.Client
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

// post sends body and returns the status and the response body.
func (c *containerClient) post(ctx context.Context, url string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("post %s: %w", url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("post %s: %w", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("read response of %s: %w", url, err)
	}
	return resp.StatusCode, b, nil
}
