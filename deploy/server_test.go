package deploy_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wispio/wisp/client"
	_ "github.com/wispio/wisp/connectors/all" // the shipped connectors
	"github.com/wispio/wisp/deploy"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/internal/testenv"
	"github.com/wispio/wisp/server"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/throttle"
)

// env is a whole Wisp server (process backend) with namespace "dep", a
// client and a Deployer on it.
type env struct {
	t    *testing.T
	c    *client.Client
	d    *deploy.Deployer
	srv  *server.Server
	auth string // the namespace's key, as feed actions want it
	dir  string // a folder for manifests and code
}

// start runs a server with the tweaks applied to its configuration.
func start(t *testing.T, tweaks ...func(*server.Config)) *env {
	t.Helper()
	testenv.Node(t)
	cfg := server.DefaultConfig()
	cfg.Invoker = server.BackendProcess
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Pool.StemCells = nil
	cfg.Throttles = throttle.Limits{}
	// The examples' feeds and actions reach the suite's mosquitto,
	// pouchdb-server and fake Slack on 127.0.0.1, which the default egress
	// policy denies.
	cfg.EgressAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	for _, tweak := range tweaks {
		tweak(&cfg)
	}
	creds := entity.NewCredentials()
	log := slog.New(slog.DiscardHandler)
	srv, err := server.Start(context.Background(), cfg, log, func(ctx context.Context, st store.Store) error {
		return st.CreateSubject(ctx, entity.Subject{Namespace: "dep", UUID: creds.UUID, KeyHash: entity.HashKey(creds.Key)})
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("close server: %v", err)
		}
	})
	c := client.New(client.Config{APIHost: "http://" + srv.Addr(), Auth: creds.String()})
	return &env{t: t, c: c, d: deploy.New(c, creds.String(), slog.New(slog.NewTextHandler(io.Discard, nil))),
		srv: srv, auth: creds.String(), dir: t.TempDir()}
}

// write puts a file into the env's folder and returns its path.
func (e *env) write(name, content string) string {
	e.t.Helper()
	p := filepath.Join(e.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// load parses a manifest written to the env's folder.
func (e *env) load(manifest string, vars map[string]string) *deploy.Project {
	e.t.Helper()
	p, err := deploy.Parse([]byte(manifest), deploy.Options{Dir: e.dir, Env: lookup(vars), Name: "unnamed"})
	if err != nil {
		e.t.Fatalf("parse: %v", err)
	}
	return p
}

func lookup(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

func (e *env) plan(p *deploy.Project, opts deploy.PlanOptions) *deploy.Plan {
	e.t.Helper()
	plan, err := e.d.Plan(context.Background(), p, opts)
	if err != nil {
		e.t.Fatalf("plan: %v", err)
	}
	return plan
}

// deploy plans and applies, and checks that a second plan has nothing to do.
func (e *env) deploy(p *deploy.Project) *deploy.Plan {
	e.t.Helper()
	plan := e.plan(p, deploy.PlanOptions{File: "manifest.yaml"})
	if _, err := e.d.Apply(context.Background(), plan); err != nil {
		e.t.Fatalf("apply: %v", err)
	}
	if again := e.plan(p, deploy.PlanOptions{}); !again.Empty() {
		e.t.Fatalf("after apply the plan still has changes:\n%s", diff(again))
	}
	return plan
}

func (e *env) undeploy(project string) {
	e.t.Helper()
	plan, err := e.d.PlanUndeploy(context.Background(), project)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.d.Undeploy(context.Background(), plan); err != nil {
		e.t.Fatalf("undeploy: %v", err)
	}
}

func diff(p *deploy.Plan) string {
	var b strings.Builder
	p.Write(&b, true)
	return b.String()
}

// names lists the entities of the namespace as "collection name".
func (e *env) names() []string {
	e.t.Helper()
	var out []string
	for _, coll := range []string{client.Packages, "actions", client.Triggers, client.Rules} {
		var items []struct {
			Namespace, Name string
		}
		if _, err := e.c.List(context.Background(), coll, "", 200, 0, &items); err != nil {
			e.t.Fatal(err)
		}
		for _, it := range items {
			name := it.Name
			if _, pkg, ok := strings.Cut(it.Namespace, "/"); ok {
				name = pkg + "/" + name
			}
			out = append(out, coll+" "+name)
		}
	}
	return out
}

// invoke runs an action and returns its result.
func (e *env) invoke(name string, params any) map[string]any {
	e.t.Helper()
	inv, _, err := e.c.InvokeAction(context.Background(), name, params, true, true)
	if err != nil {
		e.t.Fatalf("invoke %s: %v", name, err)
	}
	var out map[string]any
	if err := json.Unmarshal(inv.Result, &out); err != nil {
		e.t.Fatalf("result of %s: %v", name, err)
	}
	return out
}

// fired fires a trigger and waits for the activation of the one rule's
// action, returning its result.
func (e *env) fired(trigger string, params any) map[string]any {
	e.t.Helper()
	ctx := context.Background()
	id, _, err := e.c.FireTrigger(ctx, trigger, params)
	if err != nil || id == "" {
		e.t.Fatalf("fire %s: id %q, %v", trigger, id, err)
	}
	fire := e.activation(id)
	if len(fire.Logs) != 1 {
		e.t.Fatalf("trigger activation logs %v, want one rule", fire.Logs)
	}
	var rule struct {
		Success      bool
		ActivationID string
		Error        string
	}
	if err := json.Unmarshal([]byte(fire.Logs[0]), &rule); err != nil || !rule.Success {
		e.t.Fatalf("rule result %s (%v)", fire.Logs[0], err)
	}
	act := e.activation(rule.ActivationID)
	var out map[string]any
	if err := json.Unmarshal(act.Response.Result, &out); err != nil {
		e.t.Fatalf("result %s: %v", act.Response.Result, err)
	}
	return out
}

// activation waits for an activation record: they are stored after the
// fact.
func (e *env) activation(id string) *client.Activation {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		act, _, err := e.c.GetActivation(context.Background(), id)
		if err == nil {
			return act
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("activation %s: %v", id, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// actionWritable returns a folder the test's actions may write in: as
// root, process-backend actions run as unprivileged users of their own,
// who cannot enter the test's private temporary folders.
func actionWritable(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "wisp-deploy-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	return dir
}
