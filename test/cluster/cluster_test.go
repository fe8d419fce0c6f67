// Package cluster tests Wisp as a cluster of separate processes on
// loopback: controllers and invokers of the wisp binary meeting on the
// suite's nats-server (JetStream) with the suite's CouchDB-protocol server
// as the shared store, while processes are killed under load.
package cluster

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/internal/testenv"
	"github.com/wispio/wisp/routing"
	"github.com/wispio/wisp/store/couchdb"
)

// node is one wisp serve process.
type node struct {
	id   string
	addr string
	cmd  *exec.Cmd
	log  string
}

type cluster struct {
	t        *testing.T
	bin      string
	dir      string
	busURL   string
	prefix   string
	storeURL string
}

func (c *cluster) start(id, role string, extra ...string) *node {
	c.t.Helper()
	addr := freeAddr(c.t)
	n := &node{id: id, addr: addr, log: filepath.Join(c.dir, id+".log")}
	out, err := os.Create(n.log)
	if err != nil {
		c.t.Fatal(err)
	}
	args := append([]string{"serve", "--role", role, "--id", id, "--addr", addr,
		"--bus", c.busURL, "--bus-prefix", c.prefix, "--store", c.storeURL,
		"--data", filepath.Join(c.dir, id), "--invoker-silence", "3s", "--log-level", "warn"}, extra...)
	n.cmd = exec.Command(c.bin, args...)
	n.cmd.Stdout, n.cmd.Stderr = out, out
	// Its own process group, so that the cleanup also ends the action
	// processes a killed invoker leaves behind.
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := n.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() {
		_ = syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
		_ = n.cmd.Wait()
		if c.t.Failed() {
			b, _ := os.ReadFile(n.log)
			c.t.Logf("--- log of %s (last 3000 bytes):\n%s", id, tail(b, 3000))
		}
	})
	waitFor(c.t, id+" /ping", 60*time.Second, func() bool {
		resp, err := http.Get("http://" + addr + "/ping")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return n
}

// kill ends the node with SIGKILL: no goodbye, no flush.
func (n *node) kill(t *testing.T) {
	if err := n.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill %s: %v", n.id, err)
	}
	_ = n.cmd.Wait()
}

// invokerLine matches a controller's log line for a change to its
// balancer's invokers (routing.Watcher) or an invoker taken out for silence.
var invokerLine = regexp.MustCompile(`msg="(invokers changed|invoker is silent[^"]*)" invoker=(\S+)(?: leaving=(\S+))?`)

// invokers reads the controller's log and returns the invokers its balancer
// holds now: those whose last change was a join, not leaving or silence.
func (n *node) invokers(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(n.log)
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, m := range invokerLine.FindAllStringSubmatch(string(b), -1) {
		known[m[2]] = m[1] == "invokers changed" && m[3] == "false"
	}
	return known
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitFor(t *testing.T, what string, limit time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// api calls a controller as the test's namespace.
type api struct {
	auth   string
	client *http.Client
}

func (a *api) do(addr, method, path string, body any) (int, []byte, error) {
	return a.in(addr, method, "_"+path, body)
}

// in calls the API at /api/v1/namespaces/<nsPath> ("whisk.system/actions/...").
func (a *api) in(addr, method, nsPath string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+addr+"/api/v1/namespaces/"+nsPath, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Basic "+a.auth)
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func (a *api) must(t *testing.T, addr, method, path string, body any) []byte {
	t.Helper()
	code, b, err := a.do(addr, method, path, body)
	if err != nil || code >= 300 {
		t.Fatalf("%s %s: %d %s %v", method, path, code, b, err)
	}
	return b
}

// TestClusterLosesNothing runs 2 controllers and 3 invokers as separate
// processes, submits 5,000 non-blocking invocations and 500 trigger fires
// spread over both controllers, kills an invoker with SIGKILL a third of
// the way in and a controller at two thirds, and then requires a record
// for every accepted activation and, for every accepted fire, its trigger
// activation and the one activation of its rule's action.
func TestClusterLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("the cluster test takes a minute")
	}
	c, st, creds := newCluster(t)
	const invocations, fires = 5000, 500
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// At info level a controller logs each change to its balancer's invokers.
	ctlArgs := unthrottledInfo()
	controllers := []*node{c.start("c1", "controller", ctlArgs...), c.start("c2", "controller", ctlArgs...)}
	invokers := make([]*node, 3)
	for i := range invokers {
		invokers[i] = c.start(fmt.Sprintf("i%d", i+1), "invoker", "--invoker", "process", "--stem-cells", "none", "--user-memory", "1024")
	}

	a := &api{auth: basic(creds), client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	a.must(t, controllers[0].addr, http.MethodPut, "/actions/noop", map[string]any{
		"exec":   map[string]any{"kind": "nodejs:20", "code": "function main(p) { return {n: p.n} }"},
		"limits": map[string]any{"memory": 128},
	})
	a.must(t, controllers[0].addr, http.MethodPut, "/triggers/tick", map[string]any{})
	a.must(t, controllers[0].addr, http.MethodPut, "/rules/onTick", map[string]any{"trigger": "/_/tick", "action": "/_/noop"})
	// Every controller can run a blocking call once it has heard from the
	// invokers, and knows the rule another controller wrote.
	for _, ctl := range controllers {
		waitFor(t, ctl.id+" to run a blocking call", 60*time.Second, func() bool {
			code, _, _ := a.do(ctl.addr, http.MethodPost, "/actions/noop?blocking=true&result=true", map[string]any{"n": -1})
			return code == http.StatusOK
		})
	}
	for _, ctl := range controllers {
		waitFor(t, ctl.id+" to know every invoker", 60*time.Second, func() bool {
			known := ctl.invokers(t)
			for _, inv := range invokers {
				if !known[inv.id] {
					return false
				}
			}
			return true
		})
	}

	var (
		mu            sync.Mutex
		acceptedInv   []string
		acceptedFires []string
		refused       atomic.Int64
		sent          atomic.Int64
		c2dead        atomic.Bool
	)
	type job struct {
		n    int
		fire bool
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				ctl := controllers[j.n%2]
				if c2dead.Load() {
					ctl = controllers[0]
				}
				path := "/actions/noop?blocking=false"
				if j.fire {
					path = "/triggers/tick"
				}
				code, body, err := a.do(ctl.addr, http.MethodPost, path, map[string]any{"n": j.n})
				sent.Add(1)
				var res struct {
					ActivationID string `json:"activationId"`
				}
				if err != nil || code != http.StatusAccepted || json.Unmarshal(body, &res) != nil || res.ActivationID == "" {
					refused.Add(1) // not accepted: the caller knows to retry
					continue
				}
				mu.Lock()
				if j.fire {
					acceptedFires = append(acceptedFires, res.ActivationID)
				} else {
					acceptedInv = append(acceptedInv, res.ActivationID)
				}
				mu.Unlock()
			}
		}()
	}
	start := time.Now()
	total := invocations + fires
	for i := range total {
		switch i {
		case total / 3:
			t.Logf("SIGKILL invoker %s after %d requests", invokers[1].id, i)
			invokers[1].kill(t)
		case 2 * total / 3:
			t.Logf("SIGKILL controller %s after %d requests", controllers[1].id, i)
			c2dead.Store(true)
			controllers[1].kill(t)
		}
		jobs <- job{n: i, fire: i%((total)/fires) == 0}
	}
	close(jobs)
	wg.Wait()
	submitted := time.Since(start)
	t.Logf("submitted %d requests in %s: %d invocations and %d fires accepted, %d refused (requests to the controller being killed)",
		sent.Load(), submitted.Round(time.Millisecond), len(acceptedInv), len(acceptedFires), refused.Load())
	if len(acceptedInv) < invocations*9/10 || len(acceptedFires) < fires*9/10 {
		t.Fatalf("too few accepted: %d invocations, %d fires", len(acceptedInv), len(acceptedFires))
	}

	// Every accepted activation gets its record: those the killed invoker
	// held are reclaimed and run elsewhere, those the killed controller
	// queued are run by the invokers, its fires by the other controller.
	want := map[string]string{}
	for _, id := range acceptedInv {
		want[id] = "invocation"
	}
	for _, id := range acceptedFires {
		want[id] = "trigger activation"
		want[routing.RuleActivationID(id, entity.FQN{Namespace: "load", Name: "onTick"})] = "rule activation of fire " + id
	}
	missing := want
	deadline := time.Now().Add(3 * time.Minute)
	for len(missing) > 0 && time.Now().Before(deadline) {
		next := map[string]string{}
		for id, what := range missing {
			act, err := st.GetActivation(ctx, "load", id)
			if err != nil {
				next[id] = what
				continue
			}
			if what == "invocation" && (act.Name != "noop" || !act.Response.Success) {
				t.Errorf("activation %s: %s %+v, want a successful noop", id, act.Name, act.Response)
			}
		}
		missing = next
		if len(missing) > 0 {
			time.Sleep(time.Second)
		}
	}
	if len(missing) > 0 {
		n := 0
		for id, what := range missing {
			if n++; n <= 10 {
				t.Errorf("no record of %s %s", what, id)
			}
		}
		t.Fatalf("%d of %d accepted activations have no record", len(missing), len(want))
	}
	t.Logf("all %d records present %s after the last request (%d invocations, %d fires with their rule activations)",
		len(want), time.Since(start.Add(submitted)).Round(time.Millisecond), len(acceptedInv), len(acceptedFires))
}

// newCluster builds wisp, opens the shared store under a prefix of the
// run's own and creates the namespace load in it before any node starts.
func newCluster(t *testing.T) (*cluster, *couchdb.Store, entity.Credentials) {
	t.Helper()
	testenv.Node(t)
	busURL, couchURL := testenv.NATS(t), testenv.CouchDB(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "wisp")
	build := exec.Command("go", "build", "-o", bin, "./cmd/wisp")
	build.Dir = testenv.RepoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build wisp: %v\n%s", err, out)
	}
	run := fmt.Sprintf("c%d", time.Now().UnixNano())
	storeURL := couchURL + "/?prefix=" + run + "_"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := couchdb.Open(ctx, storeURL, couchdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	creds := createSubject(ctx, t, st, "load", nil)
	return &cluster{t: t, bin: bin, dir: dir, busURL: busURL, prefix: run, storeURL: storeURL}, st, creds
}

// unthrottledInfo is the flags of a node that logs at info level (each
// change to a controller's invokers, each feed taken over) and lifts the
// per-namespace throttles, so that the load of a test is never refused.
func unthrottledInfo() []string {
	return []string{"--log-level", "info", "--throttle-invocations-per-minute", "0", "--throttle-concurrent", "0", "--throttle-fires-per-minute", "0"}
}

func basic(c entity.Credentials) string {
	return base64.StdEncoding.EncodeToString([]byte(c.String()))
}
