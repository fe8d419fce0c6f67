package server

import (
	"context"
	"strings"
	"testing"

	"github.com/wispio/wisp/actions"
	"github.com/wispio/wisp/client"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/invoker"
)

// TestDockerGoBinaryCache: a Go source action compiles in its first
// container only; its next container (the action updated with the same
// code, so a new revision and a new container) gets the cached binary,
// while another namespace with the same code, new code and a failed
// compile do not.
func TestDockerGoBinaryCache(t *testing.T) {
	srv, c := startDocker(t, func(cfg *Config) { cfg.Pool.StemCells = nil })
	kind := actions.GoKind()
	requireImage(t, srv, kind)
	creds := entity.NewCredentials()
	if err := srv.Store().CreateSubject(context.Background(), entity.Subject{Namespace: "other", UUID: creds.UUID, KeyHash: entity.HashKey(creds.Key)}); err != nil {
		t.Fatal(err)
	}
	other := client.New(client.Config{APIHost: "http://" + srv.Addr(), Auth: creds.String()})
	src := func(greeting string) string {
		return "package main\n\nfunc Main(obj map[string]interface{}) map[string]interface{} {\n\treturn map[string]interface{}{\"greeting\": \"" + greeting + "\"}\n}\n"
	}
	steps := []struct {
		name   string
		c      *client.Client
		code   string
		status string
		want   string
		stats  invoker.GoBinaryStats // Hits and Stores after the step
	}{
		{name: "first container compiles", c: c, code: src("hello"), want: "hello", stats: invoker.GoBinaryStats{Stores: 1}},
		{name: "second container gets the binary", c: c, code: src("hello"), want: "hello", stats: invoker.GoBinaryStats{Hits: 1, Stores: 1}},
		{name: "another namespace compiles its own", c: other, code: src("hello"), want: "hello", stats: invoker.GoBinaryStats{Hits: 1, Stores: 2}},
		{name: "new code compiles again", c: c, code: src("bonjour"), want: "bonjour", stats: invoker.GoBinaryStats{Hits: 1, Stores: 3}},
		{name: "a failed compile keeps nothing", c: c, code: "package main\n\nfunc Main(obj map[string]interface{}) map[string]interface{} {\n\treturn nope\n}\n",
			status: "action developer error", want: "undefined: nope", stats: invoker.GoBinaryStats{Hits: 1, Stores: 3}},
	}
	for _, st := range steps {
		memory := 256
		if _, _, err := st.c.PutAction(context.Background(), &client.Action{
			Name: "cached", Exec: &client.Exec{Kind: kind, Code: st.code}, Limits: &client.Limits{Memory: &memory},
		}, true); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		act := invoke(t, st.c, "cached", nil)
		status := st.status
		if status == "" {
			status = "success"
		}
		result := string(mustJSON(act.Response.Result))
		if act.Response.Status != status || !strings.Contains(result, st.want) {
			t.Fatalf("%s: activation = %s %s, want %s with %q; logs %q", st.name, act.Response.Status, result, status, st.want, act.Logs)
		}
		got := srv.Invoker().GoBinaries()
		if got.Hits != st.stats.Hits || got.Stores != st.stats.Stores {
			t.Fatalf("%s: cache hits %d stores %d, want %d and %d", st.name, got.Hits, got.Stores, st.stats.Hits, st.stats.Stores)
		}
	}
}
