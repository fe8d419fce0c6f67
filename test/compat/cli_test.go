package compat

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wispio/wisp/internal/testenv"
)

// TestWispCLI drives the `wisp` CLI against a real `wisp serve` the way a
// person would: properties from a .wskprops file, then create, invoke,
// inspect and delete, with the output a user reads.
func TestWispCLI(t *testing.T) {
	bin := wispBinary(t)
	srv := startServer(t, bin)
	dir := t.TempDir()
	props := filepath.Join(dir, "wskprops")
	env := append(cleanEnv(os.Environ()), "WSK_CONFIG_FILE="+props, "HOME="+dir)
	wisp := func(t *testing.T, wantOK bool, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if (err == nil) != wantOK {
			t.Fatalf("wisp %s: err=%v, want ok=%v\n%s", strings.Join(args, " "), err, wantOK, out)
		}
		return string(out)
	}
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hello := write("hello.js", `function main(p) { console.log("greeting", p.name); return {greeting: "Hello " + p.name + p.suffix} }`)
	py := write("add.py", "def main(a):\n    return {'sum': a['x'] + a['y']}\n")
	example := filepath.Join(testenv.RepoRoot(t), "examples", "hello-events", "manifest.yaml")
	badManifest := write("bad.yaml", "project:\n  name: bad\n  packages:\n    p:\n      actions:\n        a:\n          function: hello.js\n          runtime: nodejs:99\n")

	steps := []struct {
		args   []string
		ok     bool
		expect []string
	}{
		{[]string{"property", "set", "--apihost", srv.url, "--auth", srv.auth}, true, []string{"ok: whisk API host set to " + srv.url}},
		{[]string{"property", "get", "--namespace"}, true, nil},
		{[]string{"action", "create", "hello", hello, "-p", "suffix", "!"}, true, []string{"ok: created action hello"}},
		{[]string{"action", "create", "hello", hello}, false, []string{"resource already exists"}},
		{[]string{"action", "invoke", "hello", "-p", "name", "Ada", "-r"}, true, []string{`"greeting": "Hello Ada!"`}},
		{[]string{"action", "update", "hello", "-p", "suffix", "?"}, true, []string{"ok: updated action hello"}},
		{[]string{"action", "invoke", "hello", "-p", "name", "Bob", "--blocking"}, true, []string{"ok: invoked /_/hello with id", `"greeting": "Hello Bob?"`}},
		{[]string{"action", "update", "hello", "--web", "true"}, true, []string{"ok: updated action hello"}},
		{[]string{"api", "create", "/greet", "/hi", "get", "hello"}, true, []string{"ok: created API /greet/hi GET for action /compat/hello", "/api/"}},
		{[]string{"api", "list"}, true, []string{"ok: APIs", "/compat/hello", "get", "/greet/hi"}},
		{[]string{"api", "get", "/greet"}, true, []string{`"basePath": "/greet"`, `"x-openwhisk"`}},
		{[]string{"api", "create", "greet", "/hi", "get", "hello"}, false, []string{"'greet' must begin with '/'."}},
		{[]string{"api", "delete", "/greet"}, true, []string{"ok: deleted API /greet"}},
		{[]string{"action", "create", "add", py}, true, []string{"ok: created action add"}},
		{[]string{"action", "invoke", "add", "-p", "x", "2", "-p", "y", "40", "-r"}, true, []string{`"sum": 42`}},
		{[]string{"action", "list"}, true, []string{"/compat/hello", "/compat/add", "python:3"}},
		{[]string{"action", "get", "hello", "--summary"}, true, []string{"action /compat/hello"}},
		{[]string{"activation", "list"}, true, []string{"compat/add", "compat/hello", "success"}},
		{[]string{"activation", "result", "--last"}, true, []string{`"sum": 42`}},
		{[]string{"action", "invoke", "hello", "-p", "name", "Cy", "-b"}, true, nil},
		{[]string{"activation", "logs", "--last"}, true, []string{"stdout: greeting Cy"}},
		{[]string{"action", "create", "bad", hello, "--kind", "nodejs:99"}, false, []string{`exec.kind: unknown kind "nodejs:99"`}},
		{[]string{"action", "create", "big", hello, "--memory", "4096"}, false, []string{"limits.memory"}},
		{[]string{"trigger", "create", "tick", "-p", "from", "trigger"}, true, []string{"ok: created trigger tick"}},
		{[]string{"rule", "create", "on-tick", "tick", "hello"}, true, []string{"ok: created rule on-tick"}},
		{[]string{"rule", "list"}, true, []string{"/compat/on-tick", "active"}},
		{[]string{"trigger", "fire", "tick", "-p", "name", "Dee"}, true, []string{"ok: triggered /_/tick with id"}},
		{[]string{"rule", "disable", "on-tick"}, true, []string{"ok: disabled rule on-tick"}},
		{[]string{"trigger", "fire", "tick"}, true, []string{"(no active rules)"}},
		{[]string{"rule", "create", "broken", "tick", "missing"}, false, []string{"action"}},
		{[]string{"trigger", "create", "alarmed", "--feed", "/whisk.system/alarms/alarm", "-p", "cron", "0 0 1 1 *", "-p", "trigger_payload", `{"name":"Fay"}`}, true, []string{"ok: invoked /whisk.system/alarms/alarm with id", "ok: created trigger alarmed"}},
		{[]string{"trigger", "get", "alarmed"}, true, []string{"feed /whisk.system/alarms/alarm:", `"status": "active"`, `"cron": "0 0 1 1 *"`}},
		{[]string{"trigger", "update", "alarmed", "-p", "cron", "0 0 2 1 *"}, true, []string{"ok: updated trigger alarmed"}},
		{[]string{"trigger", "get", "alarmed"}, true, []string{`"cron": "0 0 2 1 *"`}},
		{[]string{"trigger", "delete", "alarmed"}, true, []string{"ok: deleted trigger alarmed"}},
		{[]string{"trigger", "create", "misfed", "--feed", "/whisk.system/alarms/alarm", "-p", "cron", "now and then"}, false, []string{"Unable to create trigger 'misfed'", `cron: pattern "now and then" is not valid`}},
		{[]string{"trigger", "get", "misfed"}, false, []string{"The requested resource does not exist."}},
		{[]string{"package", "create", "tools", "--shared", "yes", "-p", "suffix", "..."}, true, []string{"ok: created package tools"}},
		{[]string{"package", "bind", "/whisk.system/utils", "myutils"}, true, []string{"ok: created binding myutils"}},
		{[]string{"action", "invoke", "myutils/echo", "-p", "via", "binding", "-r"}, true, []string{`"via": "binding"`}},
		{[]string{"action", "create", "chain", "--sequence", "hello,/whisk.system/utils/echo"}, true, []string{"ok: created action chain"}},
		{[]string{"action", "invoke", "chain", "-p", "name", "Eve", "-r"}, true, []string{`"greeting": "Hello Eve?"`}},
		{[]string{"list"}, true, []string{"packages", "/compat/tools", "shared", "triggers", "/compat/tick", "rules", "/compat/on-tick"}},
		{[]string{"rule", "delete", "on-tick"}, true, []string{"ok: deleted rule on-tick"}},
		{[]string{"trigger", "delete", "tick"}, true, []string{"ok: deleted trigger tick"}},
		{[]string{"action", "delete", "chain"}, true, []string{"ok: deleted action chain"}},
		{[]string{"action", "delete", "hello"}, true, []string{"ok: deleted action hello"}},
		{[]string{"action", "invoke", "hello"}, false, []string{"The requested resource does not exist."}},
		{[]string{"deploy", "-m", example, "--plan"}, true, []string{"+ package hello-events", "+ sequence hello-events/welcome", "+ rule welcome-visitors", "plan: 6 to create, 0 to update, 0 to delete, 0 unchanged"}},
		{[]string{"action", "list"}, true, nil},
		{[]string{"deploy", "-m", example}, true, []string{"ok: deployed project hello-events"}},
		{[]string{"deploy", "-m", example}, true, []string{"plan: 0 to create, 0 to update, 0 to delete, 6 unchanged", "ok: project hello-events is up to date"}},
		{[]string{"action", "invoke", "hello-events/welcome", "-p", "name", "Ada", "-p", "place", "Paris", "-r"}, true, []string{`"text": "HELLO ADA! WELCOME TO PARIS."`}},
		{[]string{"trigger", "fire", "visitor-arrived", "-p", "name", "Ada"}, true, []string{"ok: triggered /_/visitor-arrived with id"}},
		{[]string{"deploy", "-m", badManifest}, false, []string{`project.packages.p.actions.a.runtime: unknown kind "nodejs:99"`, "(line 8)"}},
		{[]string{"undeploy", "-m", example}, true, []string{"- rule welcome-visitors", "- package hello-events", "ok: undeployed project hello-events"}},
		{[]string{"--auth", "nope:wrong", "action", "list"}, false, []string{"The supplied authentication is invalid"}},
	}
	for _, s := range steps {
		out := wisp(t, s.ok, s.args...)
		for _, want := range s.expect {
			if !strings.Contains(out, want) {
				t.Fatalf("wisp %s: output lacks %q:\n%s", strings.Join(s.args, " "), want, out)
			}
		}
	}

	var acts []map[string]any
	if err := json.Unmarshal([]byte(wisp(t, true, "activation", "list", "--json", "--limit", "3")), &acts); err != nil || len(acts) != 3 {
		t.Fatalf("activation list --json: %v, %d records", err, len(acts))
	}
}
