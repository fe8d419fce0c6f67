package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store/couchdb"
)

// sleepJS is the action of the invokers benchmark: it holds its container
// for p.ms milliseconds and uses no CPU meanwhile.
const sleepJS = `function main(p) { return new Promise(r => setTimeout(() => r({slept: p.ms}), p.ms)) }`

// scaleConfig is the invokers benchmark's setup.
type scaleConfig struct {
	Bin      string        // the wisp binary; "" builds this tree's
	NATSURL  string        // "" starts a nats-server of its own
	CouchURL string        // the shared store (required)
	Duration time.Duration // measured time per cluster size
	Warm     time.Duration // load before each measurement (containers up)
	Callers  int           // concurrent blocking callers, spread over the controllers
	// Controllers is how many controllers the callers call (default 1).
	Controllers int
	Capacity    int   // concurrent activations one invoker can hold
	SleepMS     int   // how long each activation sleeps
	Sizes       []int // the numbers of invokers measured
}

// actionMemoryMB is the sleeping action's memory limit; an invoker's
// --user-memory is Capacity times this.
const actionMemoryMB = 128

// scaleResult is one cluster size's measurement.
type scaleResult struct {
	invokers int
	rate     float64 // completed blocking invokes per second
	perNode  []int   // activations each invoker ran while measured
	// cpuPerInvoke is the CPU time the cluster's processes (controller,
	// invokers and their action processes) spent per invoke measured.
	cpuPerInvoke time.Duration
}

// runInvokers measures blocking invokes per second of a sleeping action
// through one controller with each number of invokers in cfg.Sizes, every
// node a `wisp serve` process of its own on the process backend, meeting on
// nats-server with CouchDB as the store. Each invoker holds cfg.Capacity
// activations at once (its --user-memory), fewer than the callers, so the
// rate depends on the controller spreading the load. It prints the table
// on w and returns its rows.
func runInvokers(ctx context.Context, cfg scaleConfig, w io.Writer) ([]scaleResult, error) {
	if cfg.CouchURL == "" {
		return nil, fmt.Errorf("-invokers needs -couchdb (or $WISP_TEST_COUCHDB)")
	}
	dir, err := os.MkdirTemp("", "wisp-bench-invokers-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if cfg.Bin == "" {
		cfg.Bin = filepath.Join(dir, "wisp")
		if b, err := exec.CommandContext(ctx, "go", "build", "-o", cfg.Bin, "github.com/wispio/wisp/cmd/wisp").CombinedOutput(); err != nil {
			return nil, fmt.Errorf("build wisp: %v\n%s", err, b)
		}
	}
	if cfg.NATSURL == "" {
		url, stop, err := startNATS(ctx, filepath.Join(dir, "nats"))
		if err != nil {
			return nil, err
		}
		defer stop()
		cfg.NATSURL = url
	}
	var results []scaleResult
	for _, k := range cfg.Sizes {
		r, err := measureInvokers(ctx, cfg, filepath.Join(dir, fmt.Sprint("k", k)), k)
		if err != nil {
			return nil, fmt.Errorf("%d invokers: %w", k, err)
		}
		results = append(results, r)
	}
	printScale(w, cfg, results)
	return results, nil
}

// printScale prints one row per cluster size and the ratio of the last
// size's rate to the first's.
func printScale(w io.Writer, cfg scaleConfig, results []scaleResult) {
	fmt.Fprintf(w, "blocking invokes of a %d ms sleeping action, %d callers, %s each, %d controller(s), invokers of %d concurrent activations (process backend, NATS + CouchDB, separate processes)\n",
		cfg.SleepMS, cfg.Callers, cfg.Duration, max(cfg.Controllers, 1), cfg.Capacity)
	fmt.Fprintf(w, "  %-9s %12s %12s %14s  %s\n", "invokers", "invokes/s", "ideal/s", "CPU/invoke", "activations per invoker")
	for _, r := range results {
		ideal := float64(min(r.invokers*cfg.Capacity, cfg.Callers)) * 1000 / float64(cfg.SleepMS)
		fmt.Fprintf(w, "  %-9d %12.1f %12.1f %14s  %v\n", r.invokers, r.rate, ideal, r.cpuPerInvoke.Round(10*time.Microsecond), r.perNode)
	}
	if len(results) > 1 && results[0].rate > 0 {
		first, last := results[0], results[len(results)-1]
		fmt.Fprintf(w, "scaling %d -> %d invokers: %.2fx (target >= 2.5x for 1 -> 3)\n", first.invokers, last.invokers, last.rate/first.rate)
	}
}

// measureInvokers starts cfg.Controllers controllers and k invokers under dir, warms the
// action's containers and counts the blocking invokes completed in
// cfg.Duration.
func measureInvokers(ctx context.Context, cfg scaleConfig, dir string, k int) (scaleResult, error) {
	prefix := fmt.Sprintf("s%dk%d", time.Now().UnixNano(), k)
	storeURL := cfg.CouchURL + "/?prefix=" + prefix + "_"
	creds, err := benchSubject(ctx, storeURL)
	if err != nil {
		return scaleResult{}, err
	}
	c := &procCluster{bin: cfg.Bin, dir: dir, common: []string{"--bus", cfg.NATSURL, "--bus-prefix", prefix, "--store", storeURL,
		"--invoker-silence", "3s", "--log-level", "info"}}
	defer c.stop()
	var ctrls []*procNode
	for i := range max(cfg.Controllers, 1) {
		ctrl, err := c.start(ctx, fmt.Sprint("c", i), "controller", "--throttle-invocations-per-minute", "0", "--throttle-concurrent", "0", "--throttle-fires-per-minute", "0")
		if err != nil {
			return scaleResult{}, err
		}
		ctrls = append(ctrls, ctrl)
	}
	var invokers []*procNode
	for i := range k {
		inv, err := c.start(ctx, fmt.Sprint("i", i), "invoker", "--invoker", "process", "--stem-cells", "none",
			"--user-memory", strconv.Itoa(cfg.Capacity*actionMemoryMB), "--pause-grace", "1h")
		if err != nil {
			return scaleResult{}, err
		}
		invokers = append(invokers, inv)
	}
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Callers}}
	var stacks []*stack
	for _, ctrl := range ctrls {
		if err := waitUntil(ctx, 60*time.Second, func() bool { return len(ctrl.knownInvokers()) == k }); err != nil {
			return scaleResult{}, fmt.Errorf("controller %s sees %d of %d invokers: %w", ctrl.id, len(ctrl.knownInvokers()), k, err)
		}
		stacks = append(stacks, &stack{http: client, auth: creds.String(),
			invokeURL: "http://" + ctrl.addr + "/api/v1/namespaces/_/actions/sleep?blocking=true&result=true"})
	}
	put, _ := json.Marshal(map[string]any{
		"exec":       map[string]string{"kind": "nodejs:20", "code": sleepJS},
		"limits":     map[string]int{"memory": actionMemoryMB},
		"parameters": []map[string]any{{"key": "ms", "value": cfg.SleepMS}},
	})
	if _, err := stacks[0].do(ctx, http.MethodPut, "http://"+ctrls[0].addr+"/api/v1/namespaces/_/actions/sleep", put, true); err != nil {
		return scaleResult{}, fmt.Errorf("create action: %w", err)
	}
	if _, err := callFor(ctx, stacks, cfg.Callers, cfg.Warm); err != nil {
		return scaleResult{}, fmt.Errorf("warm: %w", err)
	}
	before, err := activationCounts(ctx, invokers)
	if err != nil {
		return scaleResult{}, err
	}
	cpu0 := c.cpu()
	n, err := callFor(ctx, stacks, cfg.Callers, cfg.Duration)
	if err != nil {
		return scaleResult{}, err
	}
	cpu := c.cpu() - cpu0
	after, err := activationCounts(ctx, invokers)
	if err != nil {
		return scaleResult{}, err
	}
	per := make([]int, k)
	for i := range per {
		per[i] = after[i] - before[i]
	}
	r := scaleResult{invokers: k, rate: float64(n) / cfg.Duration.Seconds(), perNode: per}
	if n > 0 {
		r.cpuPerInvoke = cpu / time.Duration(n)
	}
	return r, nil
}

// callFor runs callers goroutines doing blocking invokes for d, caller i
// through stacks[i % len(stacks)] (a controller each), and returns how many
// completed within d (the calls still running then finish but do not
// count); the first failure ends the run.
func callFor(ctx context.Context, stacks []*stack, callers int, d time.Duration) (int64, error) {
	var done atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	until := time.Now().Add(d)
	for i := range callers {
		s := stacks[i%len(stacks)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(until) {
				if err := s.viaAPI(ctx); err != nil {
					errs <- err
					return
				}
				if !time.Now().After(until) {
					done.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return done.Load(), <-errs
}

// benchSubject creates the benchmark's namespace in the store at storeURL.
func benchSubject(ctx context.Context, storeURL string) (entity.Credentials, error) {
	st, err := couchdb.Open(ctx, storeURL, couchdb.Options{})
	if err != nil {
		return entity.Credentials{}, fmt.Errorf("open the store: %w", err)
	}
	defer st.Close()
	creds := entity.NewCredentials()
	err = st.CreateSubject(ctx, entity.Subject{Namespace: "bench", UUID: creds.UUID, KeyHash: entity.HashKey(creds.Key), Created: time.Now().UnixMilli()})
	if err != nil {
		return entity.Credentials{}, fmt.Errorf("create the bench namespace: %w", err)
	}
	return creds, nil
}

// activationsLine matches a sample of the activations counter in /metrics.
var activationsLine = regexp.MustCompile(`(?m)^openwhisk_action_activations_total\{[^}]*\} ([0-9.e+]+)$`)

// activationCounts reads each invoker's activations counter (/metrics).
func activationCounts(ctx context.Context, nodes []*procNode) ([]int, error) {
	out := make([]int, len(nodes))
	for i, n := range nodes {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+n.addr+"/metrics", nil)
		if err != nil {
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, fmt.Errorf("metrics of %s: %w", n.id, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("metrics of %s: %w", n.id, err)
		}
		for _, m := range activationsLine.FindAllSubmatch(b, -1) {
			v, _ := strconv.ParseFloat(string(m[1]), 64)
			out[i] += int(v)
		}
	}
	return out, nil
}

// procCluster runs wisp serve processes sharing common flags.
type procCluster struct {
	bin    string
	dir    string
	common []string
	nodes  []*procNode
}

// procNode is one wisp serve process.
type procNode struct {
	id   string
	addr string
	log  string
	cmd  *exec.Cmd
}

// start runs `wisp serve --role role` as node id and waits for its /ping.
func (c *procCluster) start(ctx context.Context, id, role string, extra ...string) (*procNode, error) {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return nil, err
	}
	n := &procNode{id: id, addr: addr, log: filepath.Join(c.dir, id+".log")}
	out, err := os.Create(n.log)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	args := append([]string{"serve", "--role", role, "--id", id, "--addr", addr, "--data", filepath.Join(c.dir, id)}, c.common...)
	n.cmd = exec.Command(c.bin, append(args, extra...)...)
	n.cmd.Stdout, n.cmd.Stderr = out, out
	// Its own process group, so that stop also ends its action processes.
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := n.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", id, err)
	}
	c.nodes = append(c.nodes, n)
	err = waitUntil(ctx, 60*time.Second, func() bool {
		resp, err := http.Get("http://" + addr + "/ping")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if err != nil {
		b, _ := os.ReadFile(n.log)
		return nil, fmt.Errorf("%s does not answer /ping: %w; its log:\n%s", id, err, tail(b, 2000))
	}
	return n, nil
}

// stop ends every node with SIGTERM, then SIGKILL after a grace period.
func (c *procCluster) stop() {
	for _, n := range c.nodes {
		_ = syscall.Kill(-n.cmd.Process.Pid, syscall.SIGTERM)
	}
	for _, n := range c.nodes {
		done := make(chan struct{})
		go func() { _ = n.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
}

// clockTicks is the unit of /proc/PID/stat's CPU times (USER_HZ, 100 on
// every Linux this runs on).
const clockTicks = 100

// cpu sums the user and system CPU time of the nodes and their
// descendants (the action processes, in process groups of their own), from
// /proc; 0 where /proc is absent.
func (c *procCluster) cpu() time.Duration {
	type proc struct{ ppid, ticks int64 }
	procs := map[int64]proc{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.ParseInt(e.Name(), 10, 64)
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The fields after the command name, which may hold spaces:
		// state ppid ... utime (the 14th field of the line) stime (15th).
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.ParseInt(f[1], 10, 64)
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		procs[pid] = proc{ppid: ppid, ticks: utime + stime}
	}
	nodes := map[int64]bool{}
	for _, n := range c.nodes {
		nodes[int64(n.cmd.Process.Pid)] = true
	}
	var ticks int64
	for pid, p := range procs {
		for a, hops := pid, 0; a > 1 && hops < 64; a, hops = procs[a].ppid, hops+1 {
			if nodes[a] {
				ticks += p.ticks
				break
			}
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// invokerChange matches a controller's log line for a change to its
// balancer's invokers (routing.Watcher), or an invoker taken out.
var invokerChange = regexp.MustCompile(`msg="(invokers changed|invoker is silent[^"]*)" invoker=(\S+)(?: leaving=(\S+))?`)

// knownInvokers reads a controller's log for the invokers its balancer
// holds now.
func (n *procNode) knownInvokers() []string {
	f, err := os.Open(n.log)
	if err != nil {
		return nil
	}
	defer f.Close()
	known := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := invokerChange.FindStringSubmatch(sc.Text()); m != nil {
			known[m[2]] = m[1] == "invokers changed" && m[3] == "false"
		}
	}
	var ids []string
	for id, ok := range known {
		if ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// startNATS starts nats-server with JetStream on a free loopback port,
// storing under dir, and returns its URL and a stop function.
func startNATS(ctx context.Context, dir string) (string, func(), error) {
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nats-server"); serr != nil {
			return "", nil, fmt.Errorf("no -nats URL and no nats-server to start: %w", err)
		}
		bin = "/usr/sbin/nats-server"
	}
	addr, err := freeLoopbackAddr()
	if err != nil {
		return "", nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, "-js", "-a", "127.0.0.1", "-p", port, "-sd", dir)
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start nats-server: %w", err)
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	err = waitUntil(ctx, 20*time.Second, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("nats-server does not listen on %s: %w", addr, err)
	}
	return "nats://" + addr, stop, nil
}

func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// waitUntil polls ok until it holds, ctx ends or limit passes.
func waitUntil(ctx context.Context, limit time.Duration, ok func() bool) error {
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s", limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
