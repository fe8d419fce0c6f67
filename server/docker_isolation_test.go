package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	dclient "github.com/docker/docker/client"

	"github.com/wispio/wisp/actions/proxy"
	"github.com/wispio/wisp/client"
	"github.com/wispio/wisp/internal/testenv"
	"github.com/wispio/wisp/invoker"
	"github.com/wispio/wisp/invoker/docker"
)

// poolContainer is the pool's container of the action named name.
func poolContainer(t *testing.T, srv *Server, name string) invoker.ContainerInfo {
	t.Helper()
	for _, ci := range srv.Invoker().Pool().Containers() {
		if strings.Contains(ci.Key, "/"+name+"@") {
			return ci
		}
	}
	t.Fatalf("no container of %s in the pool", name)
	return invoker.ContainerInfo{}
}

// inspect returns the engine's view of a container.
func inspect(t *testing.T, id string) container.InspectResponse {
	t.Helper()
	api, err := dclient.NewClientWithOpts(dclient.FromEnv, dclient.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	info, err := api.ContainerInspect(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// secretOf is the secret the invoker gave the container at create.
func secretOf(t *testing.T, info container.InspectResponse) string {
	t.Helper()
	for _, e := range info.Config.Env {
		if v, ok := strings.CutPrefix(e, proxy.SecretEnv+"="); ok {
			return v
		}
	}
	t.Fatalf("container %s has no secret", info.ID[:12])
	return ""
}

// postContainer posts a /run or /init body to a container URL (TCP or
// unix socket) with the given secret header, "" for none.
func postContainer(t *testing.T, url, secret string, body any) (int, string) {
	t.Helper()
	b, _ := json.Marshal(body)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if secret != "" {
		req.Header.Set(proxy.SecretHeader, secret)
	}
	resp, err := invoker.NewHTTPClient().Do(req)
	if err != nil {
		t.Fatalf("post %s: %v", url, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// TestDockerIsolation replays issue 22's attack on the Docker backend, in
// both ways of reaching containers: an action opens a warm container of
// another action on its network address (refused: the containers' network
// has inter-container traffic off); from where the network does reach the
// container, /run without the container's secret is refused and runs
// nothing; with the secret, a /run without api_key does not see the key
// the previous activation had; and the action cannot read its own proxy's
// secret.
func TestDockerIsolation(t *testing.T) {
	for _, sockets := range []bool{false, true} {
		name := map[bool]string{false: "ports", true: "sockets"}[sockets]
		t.Run(name, func(t *testing.T) {
			srv, c := startDocker(t, func(cfg *Config) {
				cfg.DockerSockets = sockets
				cfg.Pool.PauseGrace = time.Hour // the victim stays warm and unpaused
				cfg.Pool.StemCells = nil
			})
			_, _, err := c.PutAction(context.Background(), &client.Action{
				Name:        "victim",
				Exec:        &client.Exec{Kind: "nodejs:20", Code: `function main(p) { console.log("victim ran", JSON.stringify(p)); return {key: process.env.__OW_API_KEY || null} }`},
				Annotations: []client.KeyValue{{Key: "provide-api-key", Value: true}},
			}, true)
			if err != nil {
				t.Fatal(err)
			}
			if act := invoke(t, c, "victim", nil); !strings.Contains(string(mustJSON(act.Response.Result)), `"key":"`) {
				t.Fatalf("the victim did not get its key: %+v", act.Response)
			}
			victim := poolContainer(t, srv, "victim")
			info := inspect(t, victim.ID)
			ep := info.NetworkSettings.Networks[docker.DefaultNetwork]
			if ep == nil || ep.IPAddress == "" {
				t.Fatalf("the victim is not on the %s network: %v", docker.DefaultNetwork, info.NetworkSettings.Networks)
			}

			createAction(t, c, "attacker", "nodejs:20", `const net = require('net');
function main(p) {
  return new Promise(resolve => {
    const s = net.connect(8080, p.ip);
    s.setTimeout(3000);
    s.on('connect', () => { s.destroy(); resolve({result: 'connected'}) });
    s.on('timeout', () => { s.destroy(); resolve({result: 'timeout'}) });
    s.on('error', e => resolve({result: e.code}));
  });
}`, nil)
			// In socket mode the victim listens on no port; the attempt
			// still shows the network path is closed.
			act := invoke(t, c, "attacker", map[string]any{"ip": ep.IPAddress})
			got := string(mustJSON(act.Response.Result))
			if !act.Response.Success || strings.Contains(got, "connected") {
				t.Fatalf("an action opened another action's container at %s:8080: %s", ep.IPAddress, got)
			}
			t.Logf("attacker connecting to %s:8080: %s", ep.IPAddress, got)

			secret := secretOf(t, info)
			run := map[string]any{"value": map[string]any{"from": "outside"}}
			for _, bad := range []string{"", "not-the-secret"} {
				if status, body := postContainer(t, victim.URL+"/run", bad, run); status != http.StatusForbidden {
					t.Fatalf("/run with secret %q = %d %s, want 403", bad, status, body)
				}
			}
			status, body := postContainer(t, victim.URL+"/run", secret, run)
			if status != http.StatusOK || body != `{"key":null}` {
				t.Fatalf("/run without api_key after an activation with it = %d %s, want {\"key\":null}", status, body)
			}

			createAction(t, c, "snoop", "nodejs:20", `const fs = require('fs');
function main() {
  const read = f => { try { return fs.readFileSync(f, 'latin1') } catch (e) { return e.code } };
  return {environ: read('/proc/1/environ'), mem: read('/proc/1/mem'), cmdline: read('/proc/1/cmdline'), env: JSON.stringify(process.env)};
}`, nil)
			snoop := invoke(t, c, "snoop", nil)
			own := secretOf(t, inspect(t, poolContainer(t, srv, "snoop").ID))
			if result := string(mustJSON(snoop.Response.Result)); !snoop.Response.Success || strings.Contains(result, own) || strings.Contains(result, proxy.SecretEnv) {
				t.Fatalf("the action read its proxy's secret: %s", result)
			}
		})
	}
}

// TestDockerLeftovers: what an activation leaves running in its container
// is gone before the next one. A fork bomb fills the pids limit (its
// children keep forking); the next activation of the same action can
// still fork and sees only the proxy and its own launcher in /proc. A
// forgotten child (a sleep started and not waited for) is gone too.
func TestDockerLeftovers(t *testing.T) {
	testenv.Python(t)
	_, c := startDocker(t, func(cfg *Config) { cfg.Pool.StemCells = nil })
	for _, tt := range []struct {
		name, kind, code string
	}{
		{"fork bomb", "python:3", `import os, time
def main(a):
    if a.get('bomb'):
        n, err = 0, ''
        try:
            while n < 1000:
                if os.fork() == 0:
                    while True:
                        try:
                            os.fork()
                        except OSError:
                            time.sleep(0.05)
                n += 1
        except OSError as e:
            err = e.strerror
        return {'forked': n, 'failure': err}
    procs = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return {'procs': procs, 'forked': True}
`},
		{"forgotten child", "nodejs:20", `const cp = require('child_process'); const fs = require('fs');
function main(p) {
  if (p.bomb) { cp.spawn('/usr/bin/node', ['-e', 'setTimeout(() => {}, 600000)'], {detached: true, stdio: 'ignore'}).unref(); return {spawned: true} }
  const procs = fs.readdirSync('/proc').filter(d => /^\d+$/.test(d)).map(Number).sort((a, b) => a - b);
  cp.execFileSync('/usr/bin/node', ['-e', '0']);
  return {procs, forked: true};
}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			name := strings.ReplaceAll(tt.name, " ", "-")
			createAction(t, c, name, tt.kind, tt.code, nil)
			first := invoke(t, c, name, map[string]any{"bomb": true})
			t.Logf("first activation: %s %s logs %q", first.Response.Status, mustJSON(first.Response.Result), first.Logs)
			next := invoke(t, c, name, nil)
			var r struct {
				Procs  []int `json:"procs"`
				Forked bool  `json:"forked"`
			}
			_ = json.Unmarshal(mustJSON(next.Response.Result), &r)
			// PID 1 is the proxy; the other one is the launcher that runs
			// this activation.
			if !next.Response.Success || !r.Forked || len(r.Procs) != 2 || r.Procs[0] != 1 {
				t.Fatalf("the next activation = %+v %s: want it to fork and see only the proxy and its launcher", next.Response, mustJSON(next.Response.Result))
			}
		})
	}
}
