// Package builtin defines actions implemented in Go inside Wisp: the
// catalogue's feed actions (/whisk.system/alarms/alarm and the like) and
// system actions such as /whisk.system/mqtt/publish. Such an action is
// stored like any other, with exec kind "builtin" and its handler's name
// as code; the invoker calls the handler instead of a container. Users
// cannot create builtin actions: only the catalogue installer may.
package builtin

import (
	"context"
	"encoding/json"
	"fmt"
)

// Kind is the exec kind of builtin actions.
const Kind = "builtin"

// Call is one invocation of a builtin action.
type Call struct {
	// Namespace is the invoking subject's namespace (the caller; for a
	// feed action, the namespace whose trigger is being wired).
	Namespace string
	// Action is the fully qualified action name, for errors and logs.
	Action string
	// ActivationID identifies the activation being run.
	ActivationID string
	// Params are the merged parameters (package < action < invocation),
	// a JSON object.
	Params json.RawMessage
}

// Func runs a builtin action. A nil error with a JSON object is a
// successful activation; an error is an application error whose message
// the activation's result carries as {"error": ...} (use Errorf).
type Func func(ctx context.Context, call Call) (json.RawMessage, error)

// Registry maps handler names (the builtin action's code, like
// "feeds/alarms") to their functions. It is built at start and read-only
// afterwards.
type Registry map[string]Func

// Errorf is an application error for the caller to see: it must name the
// parameter at fault and never repeat a secret.
func Errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
