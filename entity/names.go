package entity

import (
	"strings"
)

// MaxNameLength is OpenWhisk's limit on one name segment.
const MaxNameLength = 256

// DefaultNamespace is the path segment that means "the caller's own namespace".
const DefaultNamespace = "_"

// ValidateName checks one name segment against OpenWhisk's rules: letters,
// digits, '_', '@', '.', '-' and inner spaces, not starting with a symbol
// other than '_', at most 256 characters. field names the segment in errors.
func ValidateName(field, name string) error {
	if name == "" {
		return Invalid(field, "name is missing")
	}
	if len(name) > MaxNameLength {
		return Invalid(field, "name is longer than %d characters", MaxNameLength)
	}
	for i, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_':
		case r == '@' || r == '.' || r == '-':
			if i == 0 {
				return Invalid(field, "name %q must start with a letter, a digit or '_'", name)
			}
		case r == ' ':
			if i == 0 || i == len(name)-1 {
				return Invalid(field, "name %q must not start or end with a space", name)
			}
		default:
			return Invalid(field, "name %q contains the character %q; allowed are letters, digits, '_', '@', '.', '-' and inner spaces", name, r)
		}
	}
	return nil
}

// FQN is a fully qualified entity name: /namespace[/package]/name.
type FQN struct {
	Namespace string
	Package   string
	Name      string
}

// String renders the name as /namespace[/package]/name.
func (f FQN) String() string {
	if f.Package == "" {
		return "/" + f.Namespace + "/" + f.Name
	}
	return "/" + f.Namespace + "/" + f.Package + "/" + f.Name
}

// Path renders the name within its namespace: [package/]name. This is the key
// the store uses for an entity.
func (f FQN) Path() string {
	if f.Package == "" {
		return f.Name
	}
	return f.Package + "/" + f.Name
}

// ParseFQN parses a name as clients write it: "name", "pkg/name", "/ns/name"
// or "/ns/pkg/name". A relative name, or the namespace "_", resolves to
// defaultNS. field names the value in errors.
func ParseFQN(field, s, defaultNS string) (FQN, error) {
	if s == "" {
		return FQN{}, Invalid(field, "name is missing")
	}
	var f FQN
	parts := strings.Split(strings.TrimPrefix(s, "/"), "/")
	if strings.HasPrefix(s, "/") {
		switch len(parts) {
		case 2:
			f = FQN{Namespace: parts[0], Name: parts[1]}
		case 3:
			f = FQN{Namespace: parts[0], Package: parts[1], Name: parts[2]}
		default:
			return FQN{}, Invalid(field, "%q is not a fully qualified name of the form /namespace[/package]/name", s)
		}
	} else {
		switch len(parts) {
		case 1:
			f = FQN{Name: parts[0]}
		case 2:
			f = FQN{Package: parts[0], Name: parts[1]}
		default:
			return FQN{}, Invalid(field, "%q is not a name of the form [package/]name", s)
		}
	}
	if f.Namespace == "" || f.Namespace == DefaultNamespace {
		f.Namespace = defaultNS
	}
	if err := f.Validate(field); err != nil {
		return FQN{}, err
	}
	return f, nil
}

// Validate checks every segment of f.
func (f FQN) Validate(field string) error {
	if err := ValidateName(field, f.Namespace); err != nil {
		return err
	}
	if f.Package != "" {
		if err := ValidateName(field, f.Package); err != nil {
			return err
		}
	}
	return ValidateName(field, f.Name)
}
