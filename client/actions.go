package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// ActionListOptions filter an action list. Namespace defaults to the client's;
// Package lists the actions of one package.
type ActionListOptions struct {
	Namespace string
	Package   string
	Limit     int
	Skip      int
	Count     bool
}

// GetAction fetches an action; code asks for exec.code as well (?code=true).
func (c *Client) GetAction(ctx context.Context, name string, code bool) (*Action, *Response, error) {
	qn, err := c.ParseName(name)
	if err != nil {
		return nil, nil, err
	}
	var a Action
	resp, err := c.call(ctx, request{
		method: http.MethodGet,
		path:   qn.path("actions"),
		query:  url.Values{"code": {strconv.FormatBool(code)}},
	}, &a)
	if err != nil {
		return nil, resp, fmt.Errorf("get action %s: %w", qn, err)
	}
	return &a, resp, nil
}

// ListActions lists actions; the query always carries limit and skip, like wsk.
func (c *Client) ListActions(ctx context.Context, opts ActionListOptions) ([]Action, *Response, error) {
	ns := opts.Namespace
	if ns == "" {
		ns = c.namespace
	}
	if err := validateSegment("namespace", ns); err != nil {
		return nil, nil, fmt.Errorf("list actions: %w", err)
	}
	path := "/namespaces/" + url.PathEscape(ns) + "/actions"
	if opts.Package != "" {
		if err := validateSegment("package", opts.Package); err != nil {
			return nil, nil, fmt.Errorf("list actions: %w", err)
		}
		path += "/" + url.PathEscape(opts.Package) + "/"
	}
	q := url.Values{"limit": {strconv.Itoa(opts.Limit)}, "skip": {strconv.Itoa(opts.Skip)}}
	if opts.Count {
		q.Set("count", "true")
	}
	var actions []Action
	resp, err := c.call(ctx, request{method: http.MethodGet, path: path, query: q}, &actions)
	if err != nil {
		return nil, resp, fmt.Errorf("list actions in %s: %w", ns, err)
	}
	return actions, resp, nil
}

// PutAction creates an action (overwrite false: 409 if it exists) or creates
// or updates it (overwrite true). The target is action.Namespace (the client's
// when empty) and action.Name, which may be "package/name". The action is sent
// as given and the stored action returned.
func (c *Client) PutAction(ctx context.Context, action *Action, overwrite bool) (*Action, *Response, error) {
	name := action.Name
	if action.Namespace != "" && !strings.HasPrefix(name, "/") {
		name = "/" + action.Namespace + "/" + name
	}
	qn, err := c.ParseName(name)
	if err != nil {
		return nil, nil, err
	}
	var stored Action
	resp, err := c.call(ctx, request{
		method: http.MethodPut,
		path:   qn.path("actions"),
		query:  url.Values{"overwrite": {strconv.FormatBool(overwrite)}},
		body:   action,
	}, &stored)
	if err != nil {
		return nil, resp, fmt.Errorf("put action %s: %w", qn, err)
	}
	return &stored, resp, nil
}

// DeleteAction deletes an action.
func (c *Client) DeleteAction(ctx context.Context, name string) (*Response, error) {
	qn, err := c.ParseName(name)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, request{method: http.MethodDelete, path: qn.path("actions")})
	if err != nil {
		return resp, fmt.Errorf("delete action %s: %w", qn, err)
	}
	return resp, nil
}

// InvokeAction invokes an action with params (a JSON object; {} when nil).
// blocking waits for the activation; result asks for the result alone.
//
// A 202 answer yields an Invocation with Accepted set and no error: the
// activation was queued, or a blocking call outlived the server's wait. When
// the action itself fails (502 without an OpenWhisk error code) the Invocation
// carries what the server returned and the error is an *Error with status 502.
func (c *Client) InvokeAction(ctx context.Context, name string, params any, blocking, result bool) (*Invocation, *Response, error) {
	qn, err := c.ParseName(name)
	if err != nil {
		return nil, nil, err
	}
	if params == nil {
		params = struct{}{}
	}
	resp, err := c.do(ctx, request{
		method: http.MethodPost,
		path:   qn.path("actions"),
		query:  url.Values{"blocking": {strconv.FormatBool(blocking)}, "result": {strconv.FormatBool(result)}},
		body:   params,
	})
	if resp == nil {
		return nil, nil, fmt.Errorf("invoke action %s: %w", qn, err)
	}
	if err != nil && !isApplicationError(resp) {
		return nil, resp, fmt.Errorf("invoke action %s: %w", qn, err)
	}
	inv, decodeErr := decodeInvocation(resp, blocking, result)
	if decodeErr != nil {
		return nil, resp, fmt.Errorf("invoke action %s: decode response: %w", qn, decodeErr)
	}
	if err != nil {
		return inv, resp, fmt.Errorf("invoke action %s: %w", qn, applicationError(inv))
	}
	return inv, resp, nil
}

// isApplicationError tells a failed activation (502 whose body is the
// activation or its result) from an API error (a body with "code").
func isApplicationError(resp *Response) bool {
	if resp.StatusCode != http.StatusBadGateway {
		return false
	}
	var b struct {
		Code json.RawMessage `json:"code"`
	}
	return json.Unmarshal(resp.Body, &b) == nil && len(b.Code) == 0
}

func decodeInvocation(resp *Response, blocking, result bool) (*Invocation, error) {
	inv := &Invocation{ActivationID: resp.Header.Get("X-Openwhisk-Activation-Id")}
	switch {
	case resp.StatusCode == http.StatusAccepted || !blocking:
		var b struct {
			ActivationID string `json:"activationId"`
		}
		if err := decode(resp.Body, &b); err != nil {
			return nil, err
		}
		inv.Accepted, inv.ActivationID = true, b.ActivationID
	case result:
		inv.Result = resp.Body
	default:
		var a Activation
		if err := decode(resp.Body, &a); err != nil {
			return nil, err
		}
		inv.Activation, inv.ActivationID, inv.Result = &a, a.ActivationID, a.Response.Result
	}
	return inv, nil
}

// applicationError describes a failed activation as an *Error.
func applicationError(inv *Invocation) *Error {
	msg := "the action did not complete successfully"
	if inv.Activation != nil && inv.Activation.Response.Status != "" {
		msg = "the action did not complete successfully: " + inv.Activation.Response.Status
	}
	var r struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(inv.Result, &r) == nil && len(r.Error) > 0 {
		msg = "the action returned an error: " + rawText(r.Error)
	}
	return &Error{StatusCode: http.StatusBadGateway, Message: msg}
}

// ActionURL is where an action is reached over HTTP: its web URL
// (/api/v1/web/ns/pkg|default/name) when web, else its REST URL.
func (c *Client) ActionURL(qn QualifiedName, web bool) (string, error) {
	if c.baseErr != nil {
		return "", c.baseErr
	}
	base := strings.TrimSuffix(c.base.String(), "/")
	if !web {
		return base + qn.path("actions"), nil
	}
	pkg := qn.Package
	if pkg == "" {
		pkg = "default"
	}
	return base + "/web/" + url.PathEscape(qn.Namespace) + "/" + url.PathEscape(pkg) + "/" + url.PathEscape(qn.Name), nil
}
