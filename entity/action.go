package entity

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// Exec is an action's executable part.
type Exec struct {
	Kind       string   `json:"kind"`
	Code       string   `json:"code,omitempty"`
	Binary     bool     `json:"binary"`
	Main       string   `json:"main,omitempty"`
	Image      string   `json:"image,omitempty"`
	Components []string `json:"components,omitempty"`
}

// Blackbox and Sequence are the exec kinds that carry no runtime; Native
// is the kind whose code is an executable.
const (
	KindBlackbox = "blackbox"
	KindSequence = "sequence"
	KindNative   = "native"
)

// Action is an OpenWhisk action as stored and as returned by the API.
type Action struct {
	Namespace   string       `json:"namespace"`
	Name        string       `json:"name"`
	Version     string       `json:"version"`
	Publish     bool         `json:"publish"`
	Exec        Exec         `json:"exec"`
	Annotations Params       `json:"annotations"`
	Parameters  Params       `json:"parameters"`
	Limits      ActionLimits `json:"limits"`
	Updated     int64        `json:"updated"`
}

// ExecPatch is the exec object as a request carries it.
type ExecPatch struct {
	Kind       string   `json:"kind"`
	Code       *string  `json:"code,omitempty"`
	Binary     *bool    `json:"binary,omitempty"`
	Main       string   `json:"main,omitempty"`
	Image      string   `json:"image,omitempty"`
	Components []string `json:"components,omitempty"`
}

// ActionPut is the body of PUT /actions/NAME. Absent fields keep the stored
// value on update and take defaults on create.
type ActionPut struct {
	Namespace   string             `json:"namespace,omitempty"`
	Name        string             `json:"name,omitempty"`
	Version     string             `json:"version,omitempty"`
	Publish     *bool              `json:"publish,omitempty"`
	Exec        *ExecPatch         `json:"exec,omitempty"`
	Annotations Params             `json:"annotations,omitempty"`
	Parameters  Params             `json:"parameters,omitempty"`
	Limits      *ActionLimitsPatch `json:"limits,omitempty"`
}

// FQN is the action's fully qualified name. Name may include a package
// ("pkg/action").
func (a *Action) FQN() FQN {
	if pkg, name, ok := strings.Cut(a.Name, "/"); ok {
		return FQN{Namespace: a.Namespace, Package: pkg, Name: name}
	}
	return FQN{Namespace: a.Namespace, Name: a.Name}
}

// ZipMagic are the first bytes of a zip archive.
const zipMagic = "PK\x03\x04"

// IsZip reports whether code is a base64-encoded zip archive, which is how
// clients upload zip actions (often with no binary flag).
func IsZip(code string) bool {
	if len(code) < 8 {
		return false
	}
	head, err := base64.StdEncoding.DecodeString(code[:8])
	return err == nil && strings.HasPrefix(string(head), zipMagic)
}

// NextVersion bumps the patch level of a semantic version ("0.0.1" → "0.0.2").
// An unparsable version restarts at "0.0.1".
func NextVersion(v string) string {
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return "0.0.1"
	}
	patch, err := strconv.Atoi(parts[2])
	if err != nil {
		return "0.0.1"
	}
	return fmt.Sprintf("%s.%s.%d", parts[0], parts[1], patch+1)
}

// KindResolver resolves a requested exec kind ("nodejs:default") to the
// concrete kind ("nodejs:20"), reporting false when the kind is unknown.
type KindResolver func(kind string) (string, bool)

// BuildAction validates req and returns the action to store. existing is the
// stored action on update, or nil on create. fqn names the action; now is the
// update time in milliseconds.
func BuildAction(fqn FQN, req *ActionPut, existing *Action, lim SystemLimits, resolve KindResolver, now int64) (*Action, error) {
	a := &Action{Namespace: fqn.Namespace, Name: fqn.Path(), Version: "0.0.1", Limits: lim.Defaults()}
	if existing != nil {
		cp := *existing
		a = &cp
		a.Version = NextVersion(existing.Version)
	}
	a.Updated = now
	if req.Name != "" && req.Name != fqn.Name && req.Name != fqn.Path() {
		return nil, Invalid("name", "%q in the body does not match %q in the path", req.Name, fqn.Path())
	}
	if req.Publish != nil {
		a.Publish = *req.Publish
	}
	if req.Exec != nil {
		exec, err := buildExec(req.Exec, fqn.Namespace, lim, resolve)
		if err != nil {
			return nil, err
		}
		a.Exec = exec
	} else if existing == nil {
		return nil, Invalid("exec", "is missing")
	}
	if req.Annotations != nil {
		if err := validateParams("annotations", req.Annotations, lim); err != nil {
			return nil, err
		}
		a.Annotations = req.Annotations
	}
	if req.Parameters != nil {
		if err := validateParams("parameters", req.Parameters, lim); err != nil {
			return nil, err
		}
		a.Parameters = req.Parameters
	}
	limits, err := lim.Apply(a.Limits, req.Limits)
	if err != nil {
		return nil, err
	}
	a.Limits = limits
	a.Annotations = a.Annotations.Set("exec", a.Exec.Kind)
	if a.Parameters == nil {
		a.Parameters = Params{}
	}
	return a, nil
}

func buildExec(p *ExecPatch, ns string, lim SystemLimits, resolve KindResolver) (Exec, error) {
	if p.Kind == "" {
		return Exec{}, Invalid("exec.kind", "is missing")
	}
	e := Exec{Main: p.Main, Image: p.Image}
	switch p.Kind {
	case KindSequence:
		if len(p.Components) == 0 {
			return Exec{}, Invalid("exec.components", "a sequence needs at least one component")
		}
		if len(p.Components) > lim.SequenceLength {
			return Exec{}, Invalid("exec.components", "Too many actions in the sequence. (%d components exceed the sequence length limit of %d)", len(p.Components), lim.SequenceLength)
		}
		e.Kind = KindSequence
		e.Components = make([]string, len(p.Components))
		for i, c := range p.Components {
			f, err := ParseFQN(fmt.Sprintf("exec.components[%d]", i), c, ns)
			if err != nil {
				return Exec{}, err
			}
			e.Components[i] = f.String()
		}
		return e, nil
	case KindBlackbox:
		if p.Image == "" {
			return Exec{}, Invalid("exec.image", "a blackbox action needs an image")
		}
		e.Kind = KindBlackbox
	default:
		kind, ok := resolve(p.Kind)
		if !ok {
			return Exec{}, Invalid("exec.kind", "unknown kind %q", p.Kind)
		}
		e.Kind = kind
		if p.Code == nil || *p.Code == "" {
			return Exec{}, Invalid("exec.code", "is missing for kind %q", p.Kind)
		}
	}
	if p.Code != nil {
		if n := len(*p.Code); n > lim.CodeSize {
			return Exec{}, TooLarge("exec.code", n, lim.CodeSize)
		}
		e.Code = *p.Code
	}
	e.Binary = IsZip(e.Code)
	if p.Binary != nil && *p.Binary {
		if _, err := base64.StdEncoding.DecodeString(e.Code); err != nil && e.Code != "" {
			return Exec{}, Invalid("exec.code", "binary code must be base64: %v", err)
		}
		e.Binary = true
	}
	if family, _, _ := strings.Cut(e.Kind, ":"); family == KindNative && !e.Binary {
		return Exec{}, Invalid("exec.binary", "kind %q needs binary code: base64 of an executable, or of a zip with the executable exec at its root", p.Kind)
	}
	if e.Main != "" {
		if err := validateMain(e.Kind, e.Main); err != nil {
			return Exec{}, err
		}
	}
	return e, nil
}

// validateMain checks a main name: a dotted function name, and for the
// java family OpenWhisk's Class#method as well.
func validateMain(kind, m string) error {
	hash := 0
	java := strings.HasPrefix(kind, "java:") || kind == "java"
	for _, r := range m {
		if r == '#' && java {
			hash++
			continue
		}
		if hash > 1 || !(r == '_' || r == '.' || r == '$' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return Invalid("exec.main", "%q is not a function name", m)
		}
	}
	return nil
}
