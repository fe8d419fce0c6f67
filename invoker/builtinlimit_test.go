package invoker

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/wispio/wisp/actions/builtin"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/routing"
)

// TestBuiltinResultLimit: a builtin handler's result is held to the
// result limit as a container's is, the default limit (1 MB) included
// when the configuration names none.
func TestBuiltinResultLimit(t *testing.T) {
	result := func(n int) builtin.Func {
		return func(context.Context, builtin.Call) (json.RawMessage, error) {
			return json.RawMessage(`{"v":"` + strings.Repeat("x", n) + `"}`), nil
		}
	}
	for _, tt := range []struct {
		name       string
		resultSize int // Config.Limits.ResultSize
		size       int
		ok         bool
	}{
		{"within the configured limit", 1000, 100, true},
		{"over the configured limit", 1000, 2000, false},
		{"no limit configured: within the default", 0, 100 << 10, true},
		{"no limit configured: over the default", 0, 2 << 20, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Builtins: builtin.Registry{"h": result(tt.size)}}
			cfg.Limits.ResultSize = tt.resultSize
			inv := &Invoker{cfg: cfg, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			action := &entity.Action{Exec: entity.Exec{Kind: "builtin", Code: "h"}, Limits: entity.ActionLimits{Timeout: 10_000}}
			res := inv.runBuiltin(context.Background(), &routing.Invocation{Action: entity.FQN{Namespace: "ns", Name: "a"}}, action, time.Now())
			switch got := res.response; {
			case tt.ok && got.StatusCode != entity.StatusSuccess:
				t.Fatalf("response = %d %.200s, want success", got.StatusCode, got.Result)
			case !tt.ok && (got.StatusCode != entity.StatusDeveloperError || !strings.Contains(string(got.Result), "exceeded the allowed length")):
				t.Fatalf("response = %d %.200s, want the result refused as too long", got.StatusCode, got.Result)
			}
		})
	}
}
