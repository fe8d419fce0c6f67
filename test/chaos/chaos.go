// Package chaos is Wisp's fault harness: it runs `wisp serve` (one process,
// embedded store and bus) as a child, puts load on it (non-blocking
// invokes, trigger fires, MQTT messages to a feed), kills it with SIGKILL
// in the middle, starts it again on the same data folder and counts what
// was accepted against what has a record: missing and duplicated.
//
// The test in this folder runs it in a short form under `make test`;
// `go run ./bench -faults` runs the full form. It needs the wisp binary,
// Node.js (the action is nodejs:20 on the process backend) and, for the
// MQTT part, a broker that outlives the kill (the suite's Mosquitto).
package chaos

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Config sizes one run.
type Config struct {
	// Bin is the wisp binary; Dir a fresh folder for the data and logs.
	Bin, Dir string
	// Invokes non-blocking invocations and Fires trigger fires, sent by
	// Callers concurrent callers, mixed.
	Invokes, Fires, Callers int
	// Sequences non-blocking invocations of a one-step sequence are mixed
	// in too.
	Sequences int
	// KillAt is the share of the requests after which the server gets
	// SIGKILL (0.4: at 40 %).
	KillAt float64
	// MQTTURL is a broker outliving the kill (tcp://host:port); empty
	// skips the MQTT part. MQTTMessages QoS 1 messages are published to a
	// feed's topic; the server is killed after half of them.
	MQTTURL      string
	MQTTMessages int
	// Settle bounds the wait for the records after the restart.
	Settle time.Duration
	// ExtraFlags are added to `wisp serve`.
	ExtraFlags []string
	// Logf, when set, narrates the run.
	Logf func(format string, args ...any)
}

// Row is one line of the table: what was accepted and what has a record.
type Row struct {
	What       string
	Accepted   int
	Recorded   int
	Missing    int
	Duplicated int
	// Examples are a few missing ids or sequence numbers.
	Examples []string
}

// Table is the outcome of one run.
type Table struct {
	Rows []Row
	// Refused counts requests not accepted (sent while the server was down
	// or dying): the caller knew they were not taken.
	Refused int
}

// Lost reports whether any row has a missing or duplicated record.
func (t Table) Lost() bool {
	for _, r := range t.Rows {
		if r.Missing > 0 || r.Duplicated > 0 {
			return true
		}
	}
	return false
}

func (t Table) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-28s %9s %9s %8s %11s\n", "what", "accepted", "recorded", "missing", "duplicated")
	for _, r := range t.Rows {
		fmt.Fprintf(&b, "%-28s %9d %9d %8d %11d\n", r.What, r.Accepted, r.Recorded, r.Missing, r.Duplicated)
	}
	fmt.Fprintf(&b, "(%d requests refused while the server was down: not accepted, nothing owed)\n", t.Refused)
	return b.String()
}

func (c *Config) logf(format string, args ...any) {
	if c.Logf != nil {
		c.Logf(format, args...)
	}
}

// Run runs the harness once.
func Run(ctx context.Context, cfg Config) (Table, error) {
	if cfg.Callers <= 0 {
		cfg.Callers = 50
	}
	if cfg.Settle <= 0 {
		cfg.Settle = 2 * time.Minute
	}
	data := filepath.Join(cfg.Dir, "data")
	key, err := createNamespace(ctx, cfg.Bin, data)
	if err != nil {
		return Table{}, err
	}
	srv := &server{cfg: &cfg, data: data, addr: freeAddr()}
	if err := srv.start(ctx, "run1"); err != nil {
		return Table{}, err
	}
	defer srv.kill()
	a := &apiClient{addr: srv.addr, auth: "Basic " + base64.StdEncoding.EncodeToString([]byte(key)),
		http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Callers}}}
	if err := setup(ctx, a, key, cfg); err != nil {
		return Table{}, err
	}

	var mq *mqttRun
	if cfg.MQTTURL != "" && cfg.MQTTMessages > 0 {
		if mq, err = newMQTTRun(cfg.MQTTURL, mqttTopic(cfg)); err != nil {
			return Table{}, err
		}
		defer mq.close()
	}
	load := &loadRun{cfg: &cfg, api: a, mqtt: mq}
	restarted := false
	err = load.run(ctx, func() error {
		cfg.logf("SIGKILL the server after %.0f %% of the requests", cfg.KillAt*100)
		srv.kill()
		if err := srv.start(ctx, "run2"); err != nil {
			return err
		}
		restarted = true
		cfg.logf("restarted on the same data folder")
		return nil
	})
	if err != nil {
		return Table{}, err
	}
	if !restarted {
		return Table{}, errors.New("the load ended before the kill")
	}
	cfg.logf("load sent; waiting up to %s for the records", cfg.Settle)
	table := Table{Refused: load.refused}
	rows, err := load.check(ctx, cfg.Settle)
	if err != nil {
		return table, err
	}
	table.Rows = append(table.Rows, rows...)
	if mq != nil {
		row, err := mq.check(ctx, a, cfg.Settle)
		if err != nil {
			return table, err
		}
		table.Rows = append(table.Rows, row)
	}
	return table, nil
}

func mqttTopic(cfg Config) string { return "wisp-chaos/" + filepath.Base(cfg.Dir) }

// createNamespace makes the namespace "load" in the data folder (before
// the server holds it) and returns its uuid:key.
func createNamespace(ctx context.Context, bin, data string) (string, error) {
	out, err := exec.CommandContext(ctx, bin, "admin", "user", "create", "load", "--data", data).Output()
	if err != nil {
		return "", fmt.Errorf("wisp admin user create: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(lines[len(lines)-1]), nil
}

// setup creates the action, the trigger with its rule and, with MQTT, the
// feed trigger and its rule.
func setup(ctx context.Context, a *apiClient, key string, cfg Config) error {
	steps := []struct {
		path string
		body any
	}{
		{"_/actions/noop", map[string]any{
			"exec":   map[string]any{"kind": "nodejs:20", "code": "function main(p) { return {n: p.n} }"},
			"limits": map[string]any{"memory": 128},
		}},
		{"_/actions/mq", map[string]any{
			"exec":   map[string]any{"kind": "nodejs:20", "code": "function main(p) { return {payload: p.payload} }"},
			"limits": map[string]any{"memory": 128},
		}},
		{"_/actions/step", map[string]any{
			"exec":   map[string]any{"kind": "nodejs:20", "code": "function main(p) { return {n: p.n} }"},
			"limits": map[string]any{"memory": 128},
		}},
		{"_/actions/seq", map[string]any{
			"exec": map[string]any{"kind": "sequence", "components": []string{"/_/step"}},
		}},
		{"_/triggers/tick", map[string]any{}},
		{"_/rules/onTick", map[string]any{"trigger": "/_/tick", "action": "/_/noop"}},
	}
	for _, s := range steps {
		if err := a.must(ctx, http.MethodPut, s.path, s.body); err != nil {
			return err
		}
	}
	if cfg.MQTTURL != "" && cfg.MQTTMessages > 0 {
		topic := mqttTopic(cfg)
		if err := a.must(ctx, http.MethodPut, "_/triggers/readings", map[string]any{
			"annotations": []map[string]any{{"key": "feed", "value": "/whisk.system/mqtt/messages"}},
		}); err != nil {
			return err
		}
		if err := a.must(ctx, http.MethodPost, "whisk.system/actions/mqtt/messages?blocking=true&result=true", map[string]any{
			"lifecycleEvent": "CREATE", "triggerName": "/_/readings", "authKey": key,
			"url": cfg.MQTTURL, "topic": topic, "qos": 1,
		}); err != nil {
			return fmt.Errorf("create the MQTT feed: %w", err)
		}
		if err := a.must(ctx, http.MethodPut, "_/rules/onReading", map[string]any{"trigger": "/_/readings", "action": "/_/mq"}); err != nil {
			return err
		}
	}
	// One blocking call: the action runs before the load starts.
	return a.must(ctx, http.MethodPost, "_/actions/noop?blocking=true&result=true", map[string]any{"n": -1})
}

// server is the wisp serve child.
type server struct {
	cfg  *Config
	data string
	addr string
	cmd  *exec.Cmd
	mu   sync.Mutex
}

func (s *server) start(ctx context.Context, name string) error {
	logf, err := os.Create(filepath.Join(s.cfg.Dir, name+".log"))
	if err != nil {
		return err
	}
	args := append([]string{"serve", "--addr", s.addr, "--data", s.data, "--invoker", "process", "--stem-cells", "none",
		"--throttle-invocations-per-minute", "0", "--throttle-concurrent", "0", "--throttle-fires-per-minute", "0",
		"--log-level", "warn",
		// The harness's broker listens on loopback, which the egress policy
		// denies to feeds by default.
		"--egress-allow", "127.0.0.0/8"}, s.cfg.ExtraFlags...)
	cmd := exec.Command(s.cfg.Bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group: the kill also ends the action processes.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start wisp serve: %w", err)
	}
	s.mu.Lock()
	s.cmd = cmd
	s.mu.Unlock()
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get("http://" + s.addr + "/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			b, _ := os.ReadFile(logf.Name())
			return fmt.Errorf("wisp serve did not answer /ping within a minute; its log:\n%s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill ends the server with SIGKILL: no goodbye, no flush.
func (s *server) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	_ = s.cmd.Wait()
	s.cmd = nil
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "127.0.0.1:3233"
	}
	defer l.Close()
	return l.Addr().String()
}

// apiClient calls the server's API as the namespace "load".
type apiClient struct {
	addr, auth string
	http       *http.Client
}

func (a *apiClient) do(ctx context.Context, method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+a.addr+"/api/v1/namespaces/"+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", a.auth)
	resp, err := a.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	return resp.StatusCode, b, err
}

func (a *apiClient) must(ctx context.Context, method, path string, body any) error {
	code, b, err := a.do(ctx, method, path, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if code >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, code, b)
	}
	return nil
}

// activation is the part of a record the harness reads.
type activation struct {
	ActivationID string          `json:"activationId"`
	Name         string          `json:"name"`
	Logs         []string        `json:"logs"`
	Response     json.RawMessage `json:"response"`
}

// get fetches one activation record; false when there is none yet.
func (a *apiClient) get(ctx context.Context, id string) (*activation, bool, error) {
	code, b, err := a.do(ctx, http.MethodGet, "_/activations/"+id, nil)
	if err != nil {
		return nil, false, err
	}
	switch code {
	case http.StatusOK:
		var act activation
		if err := json.Unmarshal(b, &act); err != nil {
			return nil, false, fmt.Errorf("activation %s: %w", id, err)
		}
		return &act, true, nil
	case http.StatusNotFound:
		return nil, false, nil
	}
	return nil, false, fmt.Errorf("GET activation %s: %d %s", id, code, b)
}

// list pages through the records of action name, newest first.
func (a *apiClient) list(ctx context.Context, name string) ([]activation, error) {
	var all []activation
	for skip := 0; ; skip += 200 {
		code, b, err := a.do(ctx, http.MethodGet, fmt.Sprintf("_/activations?name=%s&docs=true&limit=200&skip=%d", name, skip), nil)
		if err != nil {
			return nil, err
		}
		if code != http.StatusOK {
			return nil, fmt.Errorf("list activations of %s: %d %s", name, code, b)
		}
		var page []activation
		if err := json.Unmarshal(b, &page); err != nil {
			return nil, fmt.Errorf("list activations of %s: %w", name, err)
		}
		all = append(all, page...)
		if len(page) < 200 {
			return all, nil
		}
	}
}
