package entity

import (
	"bytes"
	"encoding/json"
	"strings"
)

// EntityRef is a fully qualified name in OpenWhisk's object form, as rules
// render their trigger and action: {"path": "ns[/pkg]", "name": "name"}.
type EntityRef struct {
	Path string `json:"path"`
	Name string `json:"name"`
}

// RefOf renders f as an EntityRef.
func RefOf(f FQN) EntityRef {
	if f.Package == "" {
		return EntityRef{Path: f.Namespace, Name: f.Name}
	}
	return EntityRef{Path: f.Namespace + "/" + f.Package, Name: f.Name}
}

// FQN turns r back into a fully qualified name.
func (r EntityRef) FQN() FQN {
	ns, pkg, _ := strings.Cut(r.Path, "/")
	return FQN{Namespace: ns, Package: pkg, Name: r.Name}
}

// String renders r as "path/name", OpenWhisk's document id of the entity.
func (r EntityRef) String() string { return r.Path + "/" + r.Name }

// Rule is an OpenWhisk rule. The stored document has no Status: a rule's
// status lives in its trigger's Rules map, and responses fill it in.
type Rule struct {
	Namespace   string    `json:"namespace"`
	Name        string    `json:"name"`
	Version     string    `json:"version"`
	Publish     bool      `json:"publish"`
	Annotations Params    `json:"annotations"`
	Status      string    `json:"status,omitempty"`
	Trigger     EntityRef `json:"trigger"`
	Action      EntityRef `json:"action"`
	Updated     int64     `json:"updated"`

	// Filters (issue 17, items 1-2). Filter is the rule's event filter as
	// given: a JSON string holding a CEL expression over params and event,
	// or a shorthand object ({"exact": …}, see package eventfilter).
	// Absent: every event fires the action.
	Filter json.RawMessage `json:"filter,omitempty"`

	// Delivery (issue 17, items 3-5; see delivery.go): retries of failed
	// activations and the dead-letter trigger fired after the last one.
	Retry      *RetryPolicy `json:"retry,omitempty"`
	DeadLetter string       `json:"deadLetter,omitempty"`
	// Sink receives each successful activation's result as a CloudEvent:
	// an http(s) URL, or a trigger of the rule's namespace ("/ns/T").
	Sink string `json:"sink,omitempty"`
}

// RulePut is the body of PUT /rules/NAME. Trigger and action are names as
// strings ("/_/T", "/ns/T", "T", "/ns/pkg/A") or {"path","name"} objects;
// absent or null keeps the stored value on update. Status is ignored (wsk
// sends "").
type RulePut struct {
	Name        string          `json:"name,omitempty"`
	Version     string          `json:"version,omitempty"`
	Publish     *bool           `json:"publish,omitempty"`
	Annotations Params          `json:"annotations,omitempty"`
	Status      string          `json:"status,omitempty"`
	Trigger     json.RawMessage `json:"trigger,omitempty"`
	Action      json.RawMessage `json:"action,omitempty"`

	// Filters (issue 17): absent keeps the stored filter on update, null
	// or "" removes it, a string or an object sets it.
	Filter json.RawMessage `json:"filter,omitempty"`

	// Delivery (see delivery.go): absent keeps, null clears.
	Retry      json.RawMessage `json:"retry,omitempty"`
	DeadLetter json.RawMessage `json:"deadLetter,omitempty"`
	Sink       json.RawMessage `json:"sink,omitempty"`
}

// FQN is the rule's fully qualified name.
func (r *Rule) FQN() FQN { return FQN{Namespace: r.Namespace, Name: r.Name} }

// BuildRule validates req and returns the rule to store (without status).
// existing is the stored rule on update, or nil on create, which needs both
// a trigger and an action. Relative names and "_" resolve to fqn's
// namespace. Whether the trigger and action exist is the caller's check.
func BuildRule(fqn FQN, req *RulePut, existing *Rule, lim SystemLimits, now int64) (*Rule, error) {
	if fqn.Package != "" {
		return nil, Invalid("name", "a rule cannot be in a package: %q", fqn.Path())
	}
	if req.Name != "" && req.Name != fqn.Name {
		return nil, Invalid("name", "%q in the body does not match %q in the path", req.Name, fqn.Name)
	}
	trigger, hasTrigger, err := ParseRef("trigger", req.Trigger, fqn.Namespace)
	if err != nil {
		return nil, err
	}
	action, hasAction, err := ParseRef("action", req.Action, fqn.Namespace)
	if err != nil {
		return nil, err
	}
	if hasTrigger && trigger.Package != "" {
		return nil, Invalid("trigger", "a trigger cannot be in a package: %q", trigger.String())
	}
	r := &Rule{Namespace: fqn.Namespace, Name: fqn.Name, Version: "0.0.1", Annotations: Params{}}
	if existing != nil {
		cp := *existing
		r = &cp
		r.Status = ""
		r.Version = NextVersion(existing.Version)
	} else if !hasTrigger || !hasAction {
		field := "trigger"
		if hasTrigger {
			field = "action"
		}
		return nil, Invalid(field, "rule requires a valid trigger and a valid action")
	}
	r.Updated = now
	if hasTrigger {
		r.Trigger = RefOf(trigger)
	}
	if hasAction {
		r.Action = RefOf(action)
	}
	if req.Publish != nil {
		r.Publish = *req.Publish
	}
	if req.Annotations != nil {
		if err := validateParams("annotations", req.Annotations, lim); err != nil {
			return nil, err
		}
		r.Annotations = req.Annotations
	}
	if r.Annotations == nil {
		r.Annotations = Params{}
	}
	if err := applyFilter(r, req.Filter); err != nil {
		return nil, err
	}
	if err := applyDelivery(r, req); err != nil {
		return nil, err
	}
	return r, nil
}

// maxFilterSize bounds a rule's filter as stored (the CEL text itself is
// bounded by package eventfilter).
const maxFilterSize = 16 << 10

// applyFilter sets r's filter from a put's: absent keeps it, null or ""
// removes it. Only the shape is checked here; the caller compiles it.
func applyFilter(r *Rule, raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0:
		return nil
	case bytes.Equal(raw, []byte("null")), bytes.Equal(raw, []byte(`""`)):
		r.Filter = nil
		return nil
	case len(raw) > maxFilterSize:
		return TooLarge("filter", len(raw), maxFilterSize)
	case raw[0] != '"' && raw[0] != '{':
		return Invalid("filter", "must be a CEL expression (a string) or a shorthand object such as {\"exact\": {\"type\": \"…\"}}")
	}
	if err := CheckJSONDepth("filter", raw); err != nil {
		return err
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return Invalid("filter", "malformed JSON: %v", err)
	}
	r.Filter = compact.Bytes()
	return nil
}

// ParseRef parses a rule's trigger or action reference: a string such as
// "/_/T", "/ns/T", "ns/T", "/ns/pkg/A" or a bare "T", or an object
// {"path": "ns[/pkg]", "name": "T"}. As in OpenWhisk, a string with two
// segments is namespace/name. "_" and a bare name resolve to defaultNS.
// Absent or null reports present false.
func ParseRef(field string, raw json.RawMessage, defaultNS string) (f FQN, present bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return FQN{}, false, nil
	}
	var s string
	switch raw[0] {
	case '"':
		if err := json.Unmarshal(raw, &s); err != nil {
			return FQN{}, false, Invalid(field, "malformed name: %v", err)
		}
	case '{':
		var ref EntityRef
		if err := json.Unmarshal(raw, &ref); err != nil {
			return FQN{}, false, Invalid(field, "malformed name: %v", err)
		}
		if ref.Path == "" {
			return FQN{}, false, Invalid(field+".path", "is missing")
		}
		s = "/" + ref.Path + "/" + ref.Name
	default:
		return FQN{}, false, Invalid(field, "must be a fully qualified name, as a string or a {\"path\", \"name\"} object")
	}
	parts := strings.Split(strings.TrimPrefix(s, "/"), "/")
	switch len(parts) {
	case 1:
		f = FQN{Name: parts[0]}
	case 2:
		f = FQN{Namespace: parts[0], Name: parts[1]}
	case 3:
		f = FQN{Namespace: parts[0], Package: parts[1], Name: parts[2]}
	default:
		return FQN{}, false, Invalid(field, "%q is not a fully qualified name of the form /namespace[/package]/name", s)
	}
	if len(parts) == 1 || f.Namespace == DefaultNamespace {
		f.Namespace = defaultNS
	}
	if err := f.Validate(field); err != nil {
		return FQN{}, false, err
	}
	return f, true, nil
}

// ParseRuleStatus reads the body of POST /rules/NAME: {"status": "active"}
// or {"status": "inactive"} (wsk adds "trigger": null, "action": null).
func ParseRuleStatus(body []byte) (string, error) {
	var req struct {
		Status *string `json:"status"`
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return "", Invalid("status", "is missing; must be one of ['active', 'inactive']")
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return "", Invalid("status", "The request content was malformed: %v", err)
	}
	switch {
	case req.Status == nil:
		return "", Invalid("status", "is missing; must be one of ['active', 'inactive']")
	case *req.Status == StatusActive, *req.Status == StatusInactive:
		return *req.Status, nil
	default:
		return "", Invalid("status", "'%s' is not a recognized rule state, must be one of ['active', 'inactive']", *req.Status)
	}
}
