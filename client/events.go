package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// Trigger is a trigger as the server returns it; Rules maps
// "namespace/rule" to the rule's action and status.
type Trigger struct {
	Namespace   string                 `json:"namespace,omitempty"`
	Name        string                 `json:"name,omitempty"`
	Version     string                 `json:"version,omitempty"`
	Publish     bool                   `json:"publish,omitempty"`
	Parameters  KeyValues              `json:"parameters,omitempty"`
	Annotations KeyValues              `json:"annotations,omitempty"`
	Rules       map[string]TriggerRule `json:"rules,omitempty"`
	// Archive keeps the trigger's fired events for replay (Wisp's
	// extension); nil when off.
	Archive *ArchivePolicy `json:"archive,omitempty"`
}

// ArchivePolicy keeps a trigger's fired events Days days (0 on a put
// turns the archive off).
type ArchivePolicy struct {
	Days int `json:"days"`
}

// TriggerRule is one entry of a trigger's rules.
type TriggerRule struct {
	Action EntityPath `json:"action"`
	Status string     `json:"status"`
}

// EntityPath is how OpenWhisk writes a reference: the path holds the
// namespace (and package), name the entity.
type EntityPath struct {
	Path string `json:"path"`
	Name string `json:"name"`
}

// String renders the reference as /path/name.
func (e EntityPath) String() string { return "/" + e.Path + "/" + e.Name }

// Rule is a rule as the server returns it.
type Rule struct {
	Namespace string     `json:"namespace,omitempty"`
	Name      string     `json:"name,omitempty"`
	Version   string     `json:"version,omitempty"`
	Status    string     `json:"status,omitempty"`
	Trigger   EntityPath `json:"trigger"`
	Action    EntityPath `json:"action"`
	// Filter is the rule's event filter (issue 17): a JSON string
	// holding a CEL expression, or a shorthand object; absent for none.
	Filter json.RawMessage `json:"filter,omitempty"`

	// Delivery (Wisp's extension; see RetryPolicy).
	Retry      *RetryPolicy `json:"retry,omitempty"`
	DeadLetter string       `json:"deadLetter,omitempty"`
	Sink       string       `json:"sink,omitempty"`
}

// RetryPolicy is a rule's retry of failed activations; durations are
// milliseconds.
type RetryPolicy struct {
	Attempts           int     `json:"attempts"`
	Backoff            Backoff `json:"backoff"`
	OnApplicationError bool    `json:"onApplicationError,omitempty"`
}

// Backoff is an exponential backoff, in milliseconds; zero takes the
// server's default.
type Backoff struct {
	Initial int64 `json:"initial,omitempty"`
	Max     int64 `json:"max,omitempty"`
}

// Package is a package or a binding as the server returns it.
type Package struct {
	Namespace   string    `json:"namespace,omitempty"`
	Name        string    `json:"name,omitempty"`
	Version     string    `json:"version,omitempty"`
	Publish     bool      `json:"publish"`
	Binding     *Binding  `json:"binding,omitempty"`
	Parameters  KeyValues `json:"parameters,omitempty"`
	Annotations KeyValues `json:"annotations,omitempty"`
	Actions     []Action  `json:"actions,omitempty"`
}

// Binding names the package a binding refers to; empty for a package.
type Binding struct {
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
}

// EntityPut is the body of a trigger, rule or package create or update.
type EntityPut struct {
	Name        string    `json:"name,omitempty"`
	Publish     *bool     `json:"publish,omitempty"`
	Parameters  KeyValues `json:"parameters,omitempty"`
	Annotations KeyValues `json:"annotations,omitempty"`
	Binding     *Binding  `json:"binding,omitempty"`
	// Trigger and Action are a rule's, as fully qualified names.
	Trigger string `json:"trigger,omitempty"`
	Action  string `json:"action,omitempty"`
	// Filter is a rule's filter (see Rule.Filter): absent keeps the
	// stored one on update, null removes it.
	Filter json.RawMessage `json:"filter,omitempty"`

	// A rule's delivery (Wisp's extension): absent keeps the stored one.
	Retry      *RetryPolicy `json:"retry,omitempty"`
	DeadLetter string       `json:"deadLetter,omitempty"`
	Sink       string       `json:"sink,omitempty"`
	// Archive is a trigger's archive (Wisp's extension): absent keeps the
	// stored one on update, {"days": 0} turns it off.
	Archive *ArchivePolicy `json:"archive,omitempty"`
}

// Collections of the entities handled generically here.
const (
	Triggers = "triggers"
	Rules    = "rules"
	Packages = "packages"
)

// Get fetches one trigger, rule or package into out.
func (c *Client) Get(ctx context.Context, collection, name string, out any) (*Response, error) {
	qn, err := c.ParseName(name)
	if err != nil {
		return nil, err
	}
	resp, err := c.call(ctx, request{method: http.MethodGet, path: qn.path(collection)}, out)
	if err != nil {
		return resp, fmt.Errorf("get %s %s: %w", collection, qn, err)
	}
	return resp, nil
}

// Put creates (or with overwrite updates) a trigger, rule or package.
func (c *Client) Put(ctx context.Context, collection, name string, body *EntityPut, overwrite bool) (*Response, error) {
	qn, err := c.ParseName(name)
	if err != nil {
		return nil, err
	}
	body.Name = qn.Entity()
	resp, err := c.do(ctx, request{
		method: http.MethodPut, path: qn.path(collection),
		query: url.Values{"overwrite": {strconv.FormatBool(overwrite)}}, body: body,
	})
	if err != nil {
		return resp, fmt.Errorf("put %s %s: %w", collection, qn, err)
	}
	return resp, nil
}

// Delete removes a trigger, rule or package.
func (c *Client) Delete(ctx context.Context, collection, name string) (*Response, error) {
	qn, err := c.ParseName(name)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, request{method: http.MethodDelete, path: qn.path(collection)})
	if err != nil {
		return resp, fmt.Errorf("delete %s %s: %w", collection, qn, err)
	}
	return resp, nil
}

// List lists a collection of namespace ns (the client's when empty) into
// out, with limit and skip as wsk sends them.
func (c *Client) List(ctx context.Context, collection, ns string, limit, skip int, out any) (*Response, error) {
	if ns == "" {
		ns = c.namespace
	}
	if err := validateSegment("namespace", ns); err != nil {
		return nil, fmt.Errorf("list %s: %w", collection, err)
	}
	resp, err := c.call(ctx, request{
		method: http.MethodGet, path: "/namespaces/" + url.PathEscape(ns) + "/" + collection,
		query: url.Values{"limit": {strconv.Itoa(limit)}, "skip": {strconv.Itoa(skip)}},
	}, out)
	if err != nil {
		return resp, fmt.Errorf("list %s: %w", collection, err)
	}
	return resp, nil
}

// FireTrigger fires a trigger with params. It returns the trigger
// activation id, or "" when no rule was active (HTTP 204).
func (c *Client) FireTrigger(ctx context.Context, name string, params any) (string, *Response, error) {
	qn, err := c.ParseName(name)
	if err != nil {
		return "", nil, err
	}
	if params == nil {
		params = struct{}{}
	}
	var out struct {
		ActivationID string `json:"activationId"`
	}
	resp, err := c.do(ctx, request{method: http.MethodPost, path: qn.path(Triggers), body: params})
	if err != nil {
		return "", resp, fmt.Errorf("fire trigger %s: %w", qn, err)
	}
	if resp.StatusCode == http.StatusNoContent || len(resp.Body) == 0 {
		return "", resp, nil
	}
	if err := decode(resp.Body, &out); err != nil {
		return "", resp, fmt.Errorf("fire trigger %s: decode response: %w", qn, err)
	}
	return out.ActivationID, resp, nil
}

// SetRuleStatus enables ("active") or disables ("inactive") a rule, with
// the body wsk sends.
func (c *Client) SetRuleStatus(ctx context.Context, name, status string) (*Response, error) {
	qn, err := c.ParseName(name)
	if err != nil {
		return nil, err
	}
	body := map[string]any{"status": status, "trigger": nil, "action": nil}
	resp, err := c.do(ctx, request{method: http.MethodPost, path: qn.path(Rules), body: body})
	if err != nil {
		return resp, fmt.Errorf("set status of rule %s: %w", qn, err)
	}
	return resp, nil
}
