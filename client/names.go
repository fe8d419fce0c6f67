package client

import (
	"fmt"
	"net/url"
	"strings"
)

// DefaultNamespace is the path segment that means "the caller's own namespace".
const DefaultNamespace = "_"

// maxNameLength is OpenWhisk's limit on one name segment.
const maxNameLength = 256

// QualifiedName is an entity name split into its parts: /Namespace[/Package]/Name.
type QualifiedName struct {
	Namespace string
	Package   string
	Name      string
}

// ParseName parses a name as users write it: "name", "pkg/name", "/ns/name" or
// "/ns/pkg/name". A relative name gets defaultNamespace ("_" when empty).
// Every segment must follow OpenWhisk's naming rules.
func ParseName(s, defaultNamespace string) (QualifiedName, error) {
	if defaultNamespace == "" {
		defaultNamespace = DefaultNamespace
	}
	if s == "" {
		return QualifiedName{}, fmt.Errorf("parse name: name is missing")
	}
	qn := QualifiedName{Namespace: defaultNamespace}
	parts := strings.Split(strings.TrimPrefix(s, "/"), "/")
	if strings.HasPrefix(s, "/") {
		if len(parts) < 2 || len(parts) > 3 {
			return QualifiedName{}, fmt.Errorf("parse name %q: a fully qualified name has the form /namespace[/package]/name", s)
		}
		qn.Namespace, parts = parts[0], parts[1:]
	} else if len(parts) > 2 {
		return QualifiedName{}, fmt.Errorf("parse name %q: a name has the form [package/]name or /namespace[/package]/name", s)
	}
	if len(parts) == 2 {
		qn.Package = parts[0]
	}
	qn.Name = parts[len(parts)-1]
	if err := qn.validate(); err != nil {
		return QualifiedName{}, fmt.Errorf("parse name %q: %w", s, err)
	}
	return qn, nil
}

// String renders the name as /namespace[/package]/name.
func (q QualifiedName) String() string {
	return "/" + q.Namespace + "/" + q.Entity()
}

// Entity renders the name within its namespace: [package/]name.
func (q QualifiedName) Entity() string {
	if q.Package == "" {
		return q.Name
	}
	return q.Package + "/" + q.Name
}

// path renders the escaped REST path of the entity in collection, for example
// /namespaces/_/actions/pkg/name.
func (q QualifiedName) path(collection string) string {
	p := "/namespaces/" + url.PathEscape(q.Namespace) + "/" + collection + "/"
	if q.Package != "" {
		p += url.PathEscape(q.Package) + "/"
	}
	return p + url.PathEscape(q.Name)
}

func (q QualifiedName) validate() error {
	if err := validateSegment("namespace", q.Namespace); err != nil {
		return err
	}
	if q.Package != "" {
		if err := validateSegment("package", q.Package); err != nil {
			return err
		}
	}
	return validateSegment("name", q.Name)
}

// validateSegment applies OpenWhisk's rule for one name segment: letters,
// digits, '_', '@', '.', '-' and inner spaces, not starting with a symbol other
// than '_', at most 256 characters.
func validateSegment(what, s string) error {
	if s == "" {
		return fmt.Errorf("%s is empty", what)
	}
	if len(s) > maxNameLength {
		return fmt.Errorf("%s is longer than %d characters", what, maxNameLength)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
		case c == '@' || c == '.' || c == '-':
			if i == 0 {
				return fmt.Errorf("%s %q must start with a letter, a digit or '_'", what, s)
			}
		case c == ' ':
			if i == 0 || i == len(s)-1 {
				return fmt.Errorf("%s %q must not start or end with a space", what, s)
			}
		default:
			return fmt.Errorf("%s %q contains %q; allowed are letters, digits, '_', '@', '.', '-' and inner spaces", what, s, c)
		}
	}
	return nil
}
