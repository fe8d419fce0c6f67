package entity

import (
	"errors"
	"fmt"
)

// FieldError reports an invalid field of an entity or request. Field is a
// dotted path such as "exec.kind" or "limits.timeout".
type FieldError struct {
	Field  string
	Reason string
	// TooLarge marks a size limit violation (HTTP 413 rather than 400).
	TooLarge bool
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Reason)
}

// Invalid returns a *FieldError for field with a formatted reason.
func Invalid(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// TooLarge returns a *FieldError for a size limit violation of field.
func TooLarge(field string, size, limit int) *FieldError {
	return &FieldError{
		Field:    field,
		Reason:   fmt.Sprintf("size %d bytes exceeds the limit of %d bytes", size, limit),
		TooLarge: true,
	}
}

// AsFieldError reports whether err is or wraps a *FieldError and returns it.
func AsFieldError(err error) (*FieldError, bool) {
	var fe *FieldError
	ok := errors.As(err, &fe)
	return fe, ok
}
