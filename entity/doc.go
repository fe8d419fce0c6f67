// Package entity is Wisp's domain model: namespaces and fully qualified names,
// actions with their exec and limits, parameters and annotations, activations
// and their responses, and the validation rules OpenWhisk applies to them.
//
// It is pure Go with no I/O and imports nothing else of Wisp; the JSON shapes
// of its types are OpenWhisk's wire format. Validation errors are *FieldError
// values that name the offending field, so the API can answer with a message a
// user can act on.
package entity
