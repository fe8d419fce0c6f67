package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// ActivationListOptions filter an activation list. Name keeps activations of
// one entity ("name" or "pkg/name"); Since and Upto are milliseconds since the
// epoch; Docs asks for full records (logs and results included).
type ActivationListOptions struct {
	Namespace string
	Name      string
	Since     int64
	Upto      int64
	Skip      int
	Limit     int
	Docs      bool
}

// ListActivations lists activations, newest first. The query always carries
// limit and skip, like wsk; the other filters only when set.
func (c *Client) ListActivations(ctx context.Context, opts ActivationListOptions) ([]Activation, *Response, error) {
	path, err := c.activationsPath(opts.Namespace)
	if err != nil {
		return nil, nil, fmt.Errorf("list activations: %w", err)
	}
	q := url.Values{"limit": {strconv.Itoa(opts.Limit)}, "skip": {strconv.Itoa(opts.Skip)}}
	if opts.Name != "" {
		q.Set("name", opts.Name)
	}
	if opts.Since > 0 {
		q.Set("since", strconv.FormatInt(opts.Since, 10))
	}
	if opts.Upto > 0 {
		q.Set("upto", strconv.FormatInt(opts.Upto, 10))
	}
	if opts.Docs {
		q.Set("docs", "true")
	}
	var list []Activation
	resp, err := c.call(ctx, request{method: http.MethodGet, path: path, query: q}, &list)
	if err != nil {
		return nil, resp, fmt.Errorf("list activations: %w", err)
	}
	return list, resp, nil
}

// GetActivation fetches one activation record.
func (c *Client) GetActivation(ctx context.Context, id string) (*Activation, *Response, error) {
	var a Activation
	resp, err := c.activationCall(ctx, id, "", &a)
	if err != nil {
		return nil, resp, fmt.Errorf("get activation %s: %w", id, err)
	}
	return &a, resp, nil
}

// ActivationLogs fetches the log lines of an activation.
func (c *Client) ActivationLogs(ctx context.Context, id string) ([]string, *Response, error) {
	var b struct {
		Logs []string `json:"logs"`
	}
	resp, err := c.activationCall(ctx, id, "/logs", &b)
	if err != nil {
		return nil, resp, fmt.Errorf("get logs of activation %s: %w", id, err)
	}
	return b.Logs, resp, nil
}

// ActivationResult fetches the response (status and result) of an activation.
func (c *Client) ActivationResult(ctx context.Context, id string) (*ActivationResponse, *Response, error) {
	var r ActivationResponse
	resp, err := c.activationCall(ctx, id, "/result", &r)
	if err != nil {
		return nil, resp, fmt.Errorf("get result of activation %s: %w", id, err)
	}
	return &r, resp, nil
}

func (c *Client) activationCall(ctx context.Context, id, suffix string, out any) (*Response, error) {
	if id == "" {
		return nil, fmt.Errorf("activation id is missing")
	}
	path, err := c.activationsPath("")
	if err != nil {
		return nil, err
	}
	return c.call(ctx, request{method: http.MethodGet, path: path + "/" + url.PathEscape(id) + suffix}, out)
}

func (c *Client) activationsPath(ns string) (string, error) {
	if ns == "" {
		ns = c.namespace
	}
	if err := validateSegment("namespace", ns); err != nil {
		return "", err
	}
	return "/namespaces/" + url.PathEscape(ns) + "/activations", nil
}
