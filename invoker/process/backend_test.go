package process

import (
	"encoding/base64"
	"io"
	"log/slog"
	"testing"

	"github.com/wispio/wisp/invoker"
	"github.com/wispio/wisp/invoker/backendtest"
)

// echoScript is a native action (ActionLoop over fd 3) that answers every
// activation with a JSON object; it needs no runtime installed.
const echoScript = "#!/bin/sh\nwhile read -r line; do\n  echo \"{\\\"pid\\\": $$}\" >&3\ndone\n"

// TestBackendConformance runs the invoker.Backend suite on the process
// backend with a native shell action; as root its containers are served
// on unix sockets.
func TestBackendConformance(t *testing.T) {
	backendtest.Run(t, backendtest.Config{
		New: func(t *testing.T) invoker.Backend {
			b, err := New(Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			return b
		},
		Spec: invoker.Spec{Kind: "native", MemoryMB: 128, Action: "/ns/conformance"},
		Init: map[string]any{"code": base64.StdEncoding.EncodeToString([]byte(echoScript)), "binary": true},
		Run:  map[string]any{"x": 1},
	})
}
