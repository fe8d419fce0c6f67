package client

import (
	"context"
	"fmt"
	"net/http"
)

// ListNamespaces lists the namespaces the caller's key may use.
func (c *Client) ListNamespaces(ctx context.Context) ([]string, *Response, error) {
	var names []string
	resp, err := c.call(ctx, request{method: http.MethodGet, path: "/namespaces"}, &names)
	if err != nil {
		return nil, resp, fmt.Errorf("list namespaces: %w", err)
	}
	return names, resp, nil
}

// Info fetches the API description and build information; it sends no
// credentials.
func (c *Client) Info(ctx context.Context) (*Info, *Response, error) {
	var info Info
	resp, err := c.call(ctx, request{method: http.MethodGet, path: "", anonymous: true}, &info)
	if err != nil {
		return nil, resp, fmt.Errorf("get API info: %w", err)
	}
	return &info, resp, nil
}
