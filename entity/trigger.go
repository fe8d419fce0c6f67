package entity

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Rule statuses.
const (
	StatusActive   = "active"
	StatusInactive = "inactive"
)

// TriggerLimits are a trigger's limits; OpenWhisk defines none, so they
// render as {}.
type TriggerLimits struct{}

// ReducedRule is a rule as its trigger records it: the action it starts and
// whether it is active. The trigger document is where a rule's status lives.
type ReducedRule struct {
	Action EntityRef `json:"action"`
	Status string    `json:"status"`

	// Filters (issue 17): the rule's filter, copied from the rule so that
	// the rule index (built from trigger documents) compiles and caches it.
	Filter json.RawMessage `json:"filter,omitempty"`
	// Delivery is the rule's delivery policy, copied here so that a fire
	// finds it in the rule index (see SetRuleDelivery).
	Delivery *RuleDelivery `json:"delivery,omitempty"`
}

// Trigger is an OpenWhisk trigger as stored and as returned by the API.
type Trigger struct {
	Namespace   string        `json:"namespace"`
	Name        string        `json:"name"`
	Version     string        `json:"version"`
	Publish     bool          `json:"publish"`
	Parameters  Params        `json:"parameters"`
	Annotations Params        `json:"annotations"`
	Limits      TriggerLimits `json:"limits"`
	// Rules maps each linked rule, by its document id "namespace/name", to
	// its action and status. Absent until a rule links the trigger.
	Rules   map[string]ReducedRule `json:"rules,omitempty"`
	Updated int64                  `json:"updated"`

	// Archive (issue 17, item 5; see archive.go) keeps fired events for
	// replay; absent when off.
	Archive *ArchivePolicy `json:"archive,omitempty"`
}

// TriggerPut is the body of PUT /triggers/NAME. Absent fields keep the
// stored value on update and take defaults on create.
type TriggerPut struct {
	Namespace   string          `json:"namespace,omitempty"`
	Name        string          `json:"name,omitempty"`
	Version     string          `json:"version,omitempty"`
	Publish     *bool           `json:"publish,omitempty"`
	Parameters  Params          `json:"parameters,omitempty"`
	Annotations Params          `json:"annotations,omitempty"`
	Limits      json.RawMessage `json:"limits,omitempty"`
	// Archive: absent keeps, null or {"days": 0} removes (archive.go).
	Archive json.RawMessage `json:"archive,omitempty"`
}

// FQN is the trigger's fully qualified name.
func (t *Trigger) FQN() FQN { return FQN{Namespace: t.Namespace, Name: t.Name} }

// RuleKey is the key of a rule in a trigger's Rules map: "namespace/name".
func RuleKey(rule FQN) string { return rule.Namespace + "/" + rule.Path() }

// ActiveRules counts the rules of t that are active.
func (t *Trigger) ActiveRules() int {
	n := 0
	for _, r := range t.Rules {
		if r.Status == StatusActive {
			n++
		}
	}
	return n
}

// WithRule returns a copy of t whose Rules map has rule linked with the given
// action and status (replacing an earlier link of that rule).
func (t *Trigger) WithRule(rule, action FQN, status string) *Trigger {
	cp := *t
	cp.Rules = make(map[string]ReducedRule, len(t.Rules)+1)
	for k, v := range t.Rules {
		cp.Rules[k] = v
	}
	cp.Rules[RuleKey(rule)] = ReducedRule{Action: RefOf(action), Status: status}
	return &cp
}

// WithRuleFilter returns a copy of t whose link of rule carries filter (nil:
// none). t must link rule (see WithRule).
func (t *Trigger) WithRuleFilter(rule FQN, filter json.RawMessage) *Trigger {
	cp := *t
	cp.Rules = make(map[string]ReducedRule, len(t.Rules))
	for k, v := range t.Rules {
		cp.Rules[k] = v
	}
	if rr, ok := cp.Rules[RuleKey(rule)]; ok {
		rr.Filter = filter
		cp.Rules[RuleKey(rule)] = rr
	}
	return &cp
}

// WithoutRule returns a copy of t with rule unlinked.
func (t *Trigger) WithoutRule(rule FQN) *Trigger {
	cp := *t
	cp.Rules = make(map[string]ReducedRule, len(t.Rules))
	for k, v := range t.Rules {
		cp.Rules[k] = v
	}
	delete(cp.Rules, RuleKey(rule))
	return &cp
}

// BuildTrigger validates req and returns the trigger to store. existing is
// the stored trigger on update (its rules are kept), or nil on create.
func BuildTrigger(fqn FQN, req *TriggerPut, existing *Trigger, lim SystemLimits, now int64) (*Trigger, error) {
	if fqn.Package != "" {
		return nil, Invalid("name", "a trigger cannot be in a package: %q", fqn.Path())
	}
	t := &Trigger{Namespace: fqn.Namespace, Name: fqn.Name, Version: "0.0.1", Parameters: Params{}, Annotations: Params{}}
	if existing != nil {
		cp := *existing
		t = &cp
		t.Version = NextVersion(existing.Version)
	}
	t.Updated = now
	if req.Name != "" && req.Name != fqn.Name {
		return nil, Invalid("name", "%q in the body does not match %q in the path", req.Name, fqn.Name)
	}
	if req.Publish != nil {
		t.Publish = *req.Publish
	}
	if err := validateTriggerLimits(req.Limits); err != nil {
		return nil, err
	}
	if req.Parameters != nil {
		if err := validateParams("parameters", req.Parameters, lim); err != nil {
			return nil, err
		}
		t.Parameters = req.Parameters
	}
	if req.Annotations != nil {
		if err := validateParams("annotations", req.Annotations, lim); err != nil {
			return nil, err
		}
		if err := validateFeed(req.Annotations); err != nil {
			return nil, err
		}
		t.Annotations = req.Annotations
	}
	if err := applyArchive(t, req.Archive); err != nil {
		return nil, err
	}
	return t, nil
}

// validateParams checks a parameter or annotation list and its size.
func validateParams(field string, p Params, lim SystemLimits) error {
	if err := p.Validate(field); err != nil {
		return err
	}
	if n := p.Size(); n > lim.ParamsSize {
		return TooLarge(field, n, lim.ParamsSize)
	}
	return nil
}

// validateTriggerLimits accepts an absent, null or object limits value:
// triggers have no limits of their own.
func validateTriggerLimits(raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) || raw[0] == '{' {
		return nil
	}
	return Invalid("limits", "must be an object")
}

// validateFeed checks the feed annotation, when present, names an action
// ("name", "pkg/name", "/ns/name" or "/ns/pkg/name").
func validateFeed(annotations Params) error {
	raw, ok := annotations.Get("feed")
	if !ok {
		return nil
	}
	var feed string
	if json.Unmarshal(raw, &feed) != nil || strings.TrimSpace(feed) == "" {
		return Invalid("annotations.feed", "Feed name is not valid")
	}
	if _, err := ParseFQN("annotations.feed", feed, "_"); err != nil {
		return Invalid("annotations.feed", "Feed name is not valid: %q", feed)
	}
	return nil
}
