package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wispio/wisp/client"
)

// createNative creates a native action from an executable's bytes.
func createNative(t testing.TB, c *client.Client, name string, exe []byte) {
	t.Helper()
	code := base64.StdEncoding.EncodeToString(exe)
	if _, _, err := c.PutAction(context.Background(), &client.Action{Name: name, Exec: &client.Exec{Kind: "native", Code: code, Binary: true}}, true); err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
}

// TestNativeProcessBackend runs #!/bin/sh native actions through the whole
// server on the process backend: cold, then warm in the same process, and a
// result that is not an object.
func TestNativeProcessBackend(t *testing.T) {
	srv, c := startServer(t, func(cfg *Config) { cfg.Pool.PauseGrace = 5 * time.Millisecond })
	createNative(t, c, "sh", []byte("#!/bin/sh\nwhile read -r line; do\n  echo \"hi from sh\"\n  echo \"{\\\"pid\\\": $$}\" >&3\ndone\n"))
	cold := invoke(t, c, "sh", map[string]any{"n": 1})
	if _, ok := annotation(cold, "initTime"); !ok || !cold.Response.Success {
		t.Fatalf("cold activation = %+v %s", cold.Response, cold.Response.Result)
	}
	if len(cold.Logs) != 1 || !strings.HasSuffix(cold.Logs[0], "stdout: hi from sh") {
		t.Fatalf("logs = %q", cold.Logs)
	}
	waitPaused(t, srv)
	warm := invoke(t, c, "sh", nil)
	var r1, r2 struct{ PID int }
	_ = json.Unmarshal(cold.Response.Result, &r1)
	_ = json.Unmarshal(warm.Response.Result, &r2)
	if _, ok := annotation(warm, "initTime"); ok || r1.PID == 0 || r1.PID != r2.PID {
		t.Fatalf("the warm activation ran in process %d, not the paused %d (%+v)", r2.PID, r1.PID, warm.Response)
	}

	createNative(t, c, "notobject", []byte("#!/bin/sh\nwhile read -r line; do echo 42 >&3; done\n"))
	bad := invoke(t, c, "notobject", nil)
	if bad.Response.Status != "action developer error" || !strings.Contains(string(bad.Response.Result), "did not return a dictionary or array") {
		t.Fatalf("non-object result = %+v %s", bad.Response, bad.Response.Result)
	}

	_, _, err := c.PutAction(context.Background(), &client.Action{Name: "text", Exec: &client.Exec{Kind: "native", Code: "#!/bin/sh"}}, true)
	var ce *client.Error
	if !errors.As(err, &ce) || ce.StatusCode != http.StatusBadRequest || !strings.Contains(ce.Message, "exec.binary") {
		t.Fatalf("native action with text code: %v", err)
	}
}
