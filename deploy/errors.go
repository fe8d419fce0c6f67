package deploy

import (
	"fmt"
	"strings"
)

// Error is one problem in a manifest or deployment file: the YAML path of the
// offending value, its line, and the reason.
type Error struct {
	// File names the file when it is not the manifest (a deployment file).
	File string
	Path string // dotted YAML path, e.g. packages.iot.actions.alert.runtime
	Line int    // 1-based; 0 when unknown
	Msg  string
}

func (e *Error) Error() string {
	var where string
	switch {
	case e.File != "" && e.Line > 0:
		where = fmt.Sprintf(" (%s line %d)", e.File, e.Line)
	case e.File != "":
		where = " (" + e.File + ")"
	case e.Line > 0:
		where = fmt.Sprintf(" (line %d)", e.Line)
	}
	if e.Path == "" {
		return e.Msg + where
	}
	return e.Path + ": " + e.Msg + where
}

// Errors is every problem found in one pass, in file order.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// err returns es as an error, or nil when empty.
func (es Errors) err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}
