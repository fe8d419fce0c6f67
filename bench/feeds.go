package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/wispio/wisp/actions/proxy"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/server"
)

// Feed latency (go run ./bench -feeds).
//
// What is measured: the time from the moment the bench hands an event to
// the source (just before the MQTT Publish call, or the HTTP PUT of a
// CouchDB document) to the moment the rule's action has started. The
// activation record's start field is in Unix milliseconds, too coarse for
// a few-millisecond budget, so the action reports its own start instead:
// its first statement sends a request to a small HTTP listener in the
// bench process (the process backend runs actions on this machine, so
// 127.0.0.1 reaches it), over a keep-alive connection kept by the warm
// action, and the bench timestamps the arrival. Both ends are read from
// the bench's one monotonic clock, so no clock skew enters.
//
// The direct path, measured on the very same events: a plain paho
// subscriber on the same broker and topic at the same QoS (the broker's own
// publish → receive), and a plain continuous _changes follower over HTTP on
// the same database (the database's own write → change). Wisp's overhead is
// then everything between the source's delivery and the action's start:
// the provider, the outbox write (an fsync'd bolt transaction), the
// trigger fire, the rule, the bus and the warm invoke, plus the action's
// one loopback request (a fraction of a millisecond, see the warm invoke
// figures).
//
// A second comparison ends where Wisp's path ends, at the action's start:
// the bridge a user would write without Wisp, the same plain subscriber
// (or _changes follower) POSTing each event's id to /run of the same warm
// container (the process backend's proxy, with its secret), on a topic
// (or database) of its own. Bridged samples alternate with Wisp's, so
// both see the same machine; Wisp's added latency over the bridge is
// what Wisp puts between a delivered event and its action, without the
// container's own /run and the action's report, which any path pays.
//
// Samples run one at a time: the next event leaves only once both paths
// have seen the previous one, so neither queues behind the other.

// feedActionJS is the rule's action: it reports its start to the bench's
// listener (port %d), tagged with the event id, then returns.
const feedActionJS = `const http = require('http');
const agent = new http.Agent({keepAlive: true});
function main(p) {
  const id = (p.payload && p.payload.id) || p.id;
  return new Promise((resolve) => {
    const req = http.request({host: '127.0.0.1', port: %d, path: '/start?id=' + encodeURIComponent(id), method: 'POST', agent: agent}, (res) => {
      res.resume();
      res.on('end', () => resolve({ok: true}));
    });
    req.on('error', (e) => resolve({error: String(e)}));
    req.end();
  });
}`

// sampleTimeout bounds the wait for one event on either path.
const sampleTimeout = 30 * time.Second

// probes hands arrival times to the sample waiting for them, by event id.
type probes struct {
	mu      sync.Mutex // guards pending
	pending map[string]*probe
}

// probe is one event in flight: when each path saw it.
type probe struct {
	wisp, raw chan time.Time // buffered 1; later duplicates are dropped
}

func newProbes() *probes { return &probes{pending: make(map[string]*probe)} }

func (ps *probes) open(id string) *probe {
	p := &probe{wisp: make(chan time.Time, 1), raw: make(chan time.Time, 1)}
	ps.mu.Lock()
	ps.pending[id] = p
	ps.mu.Unlock()
	return p
}

func (ps *probes) close(id string) {
	ps.mu.Lock()
	delete(ps.pending, id)
	ps.mu.Unlock()
}

// arrived records when one path saw the event id (wisp: the action
// started; otherwise the direct path).
func (ps *probes) arrived(id string, wisp bool, at time.Time) {
	ps.mu.Lock()
	p := ps.pending[id]
	ps.mu.Unlock()
	if p == nil {
		return // a warm-up straggler or a redelivery
	}
	ch := p.raw
	if wisp {
		ch = p.wisp
	}
	select {
	case ch <- at:
	default:
	}
}

// feedSamples are the sorted latencies of one source: Wisp's (event →
// action start), the plain subscriber's on Wisp's events (event →
// receive), and the bridge's (event → action start, alternating with
// Wisp's).
type feedSamples struct {
	wisp, raw, bridged []time.Duration
}

// measure sends n events through Wisp with send and n through b with
// bridged, alternating (after warm of each unmeasured); each sample
// starts once the one before has ended in the action (b.settle).
func (ps *probes) measure(ctx context.Context, n, warm int, prefix string, send, bridged func(ctx context.Context, id string) error, b *bridge) (*feedSamples, error) {
	var out feedSamples
	for i := range n + warm {
		tw, tr, err := ps.sample(ctx, fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), i), send)
		if err != nil {
			return nil, err
		}
		b.settle()
		tb, _, err := ps.sample(ctx, fmt.Sprintf("%s-bridged-%d-%d", prefix, time.Now().UnixNano(), i), bridged)
		if err != nil {
			return nil, fmt.Errorf("bridge: %w", err)
		}
		b.settle()
		if i >= warm {
			out.wisp, out.raw, out.bridged = append(out.wisp, tw), append(out.raw, tr), append(out.bridged, tb)
		}
	}
	sortDurations(out.wisp)
	sortDurations(out.raw)
	sortDurations(out.bridged)
	return &out, nil
}

// sample sends one event with send and returns how long it took the
// action to start and the plain subscriber to receive it.
func (ps *probes) sample(ctx context.Context, id string, send func(ctx context.Context, id string) error) (started, received time.Duration, err error) {
	p := ps.open(id)
	defer ps.close(id)
	t0 := time.Now()
	if err := send(ctx, id); err != nil {
		return 0, 0, err
	}
	var tw, tr time.Time
	timeout := time.NewTimer(sampleTimeout)
	defer timeout.Stop()
	for tw.IsZero() || tr.IsZero() {
		select {
		case tw = <-p.wisp:
		case tr = <-p.raw:
		case <-timeout.C:
			return 0, 0, fmt.Errorf("event %s: not seen within %s (action started: %t, subscriber: %t)", id, sampleTimeout, !tw.IsZero(), !tr.IsZero())
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		}
	}
	return tw.Sub(t0), tr.Sub(t0), nil
}

// bridge POSTs an event's id straight to /run of the action's warm
// container: the direct path to the action's start.
type bridge struct {
	stack       *stack
	key         string // the container's pool key
	url, secret string
	running     sync.WaitGroup // the bridge's runs under way
}

// newBridge finds the warm container of action name (warmed by Wisp's
// first events).
func newBridge(s *stack, name string) (*bridge, error) {
	for _, c := range s.srv.Invoker().Pool().Containers() {
		if strings.Contains(c.Key, "/"+name) && !c.Paused {
			return &bridge{stack: s, key: c.Key, url: c.URL + "/run", secret: c.Secret}, nil
		}
	}
	return nil, fmt.Errorf("no warm container of %s to bridge to", name)
}

// settle waits until the container runs nothing: the bridge's runs have
// answered and Wisp's activations have ended (at most a second).
func (b *bridge) settle() {
	b.running.Wait()
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Microsecond) {
		busy := false
		for _, c := range b.stack.srv.Invoker().Pool().Containers() {
			busy = busy || (c.Key == b.key && c.Inflight > 0)
		}
		if !busy {
			return
		}
	}
}

// start runs the action with id in the background (a subscriber hands
// the event over and returns); errors go to stderr.
func (b *bridge) start(ctx context.Context, id string) {
	b.running.Add(1)
	go func() {
		defer b.running.Done()
		if err := b.run(ctx, id); err != nil && ctx.Err() == nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}()
}

func (b *bridge) run(ctx context.Context, id string) error {
	body, _ := json.Marshal(map[string]any{
		"value": map[string]string{"id": id}, "namespace": "bench", "action_name": "/bench/onevent",
		"activation_id": entity.NewActivationID(), "transaction_id": "bench", "deadline": "0", "action_version": "0.0.1",
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if b.secret != "" {
		req.Header.Set(proxy.SecretHeader, b.secret)
	}
	resp, err := b.stack.http.Do(req)
	if err != nil {
		return fmt.Errorf("bridge %s: %w", id, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("bridge %s: POST /run answered %d", id, resp.StatusCode)
	}
	return nil
}

// reportFeed prints both comparisons of one source: against the
// subscriber's receive, and against the bridge's action start.
func reportFeed(w io.Writer, source, wispPath, rawPath, subscriber string, fs *feedSamples) {
	report(w, source+" → action start ("+wispPath+") vs "+rawPath, fs.wisp, fs.raw)
	report(w, source+" → action start vs the bridge: the same "+subscriber+" POSTing each event to /run of the action's warm container (alternate events)", fs.wisp, fs.bridged)
}

// waitReady sends events until the action starts for one of them: a
// feed's CREATE returns before the provider has subscribed (MQTT) or
// pinned "now" (CouchDB), so events sent at once may be missed.
func (ps *probes) waitReady(ctx context.Context, prefix string, send func(ctx context.Context, id string) error) error {
	deadline := time.Now().Add(sampleTimeout)
	var ids []string
	defer func() {
		for _, id := range ids {
			ps.close(id)
		}
	}()
	ready := make(chan time.Time, 1) // every ready probe reports here
	for time.Now().Before(deadline) {
		id := fmt.Sprintf("%s-ready-%d", prefix, time.Now().UnixNano())
		ids = append(ids, id)
		ps.mu.Lock()
		ps.pending[id] = &probe{wisp: ready, raw: make(chan time.Time, 1)}
		ps.mu.Unlock()
		if err := send(ctx, id); err != nil {
			return err
		}
		select {
		case <-ready:
			return nil
		case <-time.After(500 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return fmt.Errorf("the feed did not start the action within %s", sampleTimeout)
}

// startListener serves the action's start reports on a loopback port.
func (ps *probes) startListener() (port int, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, nil, fmt.Errorf("listen for the action's start reports: %w", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ps.arrived(r.URL.Query().Get("id"), true, time.Now())
	})}
	go func() { _ = srv.Serve(ln) }()
	return ln.Addr().(*net.TCPAddr).Port, func() { _ = srv.Close() }, nil
}

// runFeeds measures MQTT publish → action start and CouchDB write →
// action start (each when its URL is set) against the source's own
// delivery latency in the same run.
func runFeeds(ctx context.Context, n int, mqttURL, couchURL string, w io.Writer) error {
	if mqttURL == "" && couchURL == "" {
		return errors.New("-feeds: no service to measure: set -mqtt or WISP_TEST_MQTT, -couchdb or WISP_TEST_COUCHDB")
	}
	dir, err := os.MkdirTemp("", "wisp-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// The brokers measured listen on loopback, which the default egress
	// policy denies to feeds.
	s, err := startStack(ctx, dir, "process", "", func(c *server.Config) {
		c.EgressAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	})
	if err != nil {
		return err
	}
	defer s.close()
	ps := newProbes()
	port, stop, err := ps.startListener()
	if err != nil {
		return err
	}
	defer stop()
	put, _ := json.Marshal(map[string]any{
		"exec":   map[string]string{"kind": "nodejs:20", "code": fmt.Sprintf(feedActionJS, port)},
		"limits": map[string]any{"concurrency": 16}, // the previous activation may still be finishing
	})
	if _, err := s.do(ctx, http.MethodPut, s.apiURL("_/actions/onevent"), put, true); err != nil {
		return fmt.Errorf("create the action: %w", err)
	}
	warm := max(n/20, 10)
	if mqttURL != "" {
		fs, err := mqttSamples(ctx, s, ps, n, warm, mqttURL)
		if err != nil {
			return fmt.Errorf("mqtt: %w", err)
		}
		reportFeed(w, "MQTT publish", "QoS 1, /whisk.system/mqtt/messages", "publish → receive by a paho subscriber", "subscriber", fs)
	}
	if couchURL != "" {
		fs, err := couchSamples(ctx, s, ps, n, warm, couchURL)
		if err != nil {
			return fmt.Errorf("couchdb: %w", err)
		}
		reportFeed(w, "CouchDB write", "/whisk.system/couchdb/changes", "write → change on a continuous _changes follower", "follower", fs)
	}
	return nil
}

func (s *stack) apiURL(path string) string {
	return "http://" + s.srv.Addr() + "/api/v1/namespaces/" + path
}

// wireFeed creates trigger T with its rule to onevent and registers it
// with the feed (provider/feed) as `wsk trigger create --feed` does.
func (s *stack) wireFeed(ctx context.Context, trigger, feed string, params map[string]any) error {
	t, _ := json.Marshal(map[string]any{"annotations": []map[string]any{{"key": "feed", "value": "/whisk.system/" + feed}}})
	if _, err := s.do(ctx, http.MethodPut, s.apiURL("_/triggers/"+trigger), t, true); err != nil {
		return fmt.Errorf("create trigger %s: %w", trigger, err)
	}
	r, _ := json.Marshal(map[string]any{"trigger": "/_/" + trigger, "action": "/_/onevent"})
	if _, err := s.do(ctx, http.MethodPut, s.apiURL("_/rules/"+trigger+"-rule"), r, true); err != nil {
		return fmt.Errorf("create rule for %s: %w", trigger, err)
	}
	body := map[string]any{"lifecycleEvent": "CREATE", "triggerName": "/_/" + trigger, "authKey": s.auth}
	for k, v := range params {
		body[k] = v
	}
	b, _ := json.Marshal(body)
	if _, err := s.do(ctx, http.MethodPost, s.apiURL("whisk.system/actions/"+feed+"?blocking=true&result=true"), b, true); err != nil {
		return fmt.Errorf("feed %s CREATE for %s: %w", feed, trigger, err)
	}
	return nil
}

// mqttSamples publishes {"id": ...} messages at QoS 1 on a fresh topic
// that both the feed and a plain paho subscriber follow.
func mqttSamples(ctx context.Context, s *stack, ps *probes, n, warm int, broker string) (*feedSamples, error) {
	topic := fmt.Sprintf("wisp-bench/%d/events", time.Now().UnixNano())
	bridged := topic + "-bridged"
	if err := s.wireFeed(ctx, "mqtt-events", "mqtt/messages", map[string]any{"url": broker, "topic": topic, "qos": 1}); err != nil {
		return nil, err
	}
	connect := func(role string, onMessage paho.MessageHandler) (paho.Client, error) {
		opts := paho.NewClientOptions().AddBroker(broker).SetClientID(fmt.Sprintf("wisp-bench-%s-%d", role, time.Now().UnixNano())).
			SetAutoReconnect(false)
		if onMessage != nil {
			opts.SetDefaultPublishHandler(onMessage)
		}
		c := paho.NewClient(opts)
		if tok := c.Connect(); tok.Wait() && tok.Error() != nil {
			return nil, fmt.Errorf("connect the %s client to %s: %w", role, broker, tok.Error())
		}
		return c, nil
	}
	sub, err := connect("sub", nil)
	if err != nil {
		return nil, err
	}
	defer sub.Disconnect(0)
	// receive reports a message's arrival and, on the bridged topic,
	// runs the action with it.
	receive := func(b *bridge) paho.MessageHandler {
		return func(_ paho.Client, m paho.Message) {
			at := time.Now()
			var ev struct{ ID string }
			if json.Unmarshal(m.Payload(), &ev) != nil {
				return
			}
			ps.arrived(ev.ID, false, at)
			if b != nil {
				b.start(ctx, ev.ID)
			}
		}
	}
	if tok := sub.Subscribe(topic, 1, receive(nil)); tok.Wait() && tok.Error() != nil {
		return nil, fmt.Errorf("subscribe to %s: %w", topic, tok.Error())
	}
	pub, err := connect("pub", nil)
	if err != nil {
		return nil, err
	}
	defer pub.Disconnect(0)
	publish := func(topic string) func(ctx context.Context, id string) error {
		return func(ctx context.Context, id string) error {
			payload, _ := json.Marshal(map[string]string{"id": id})
			tok := pub.Publish(topic, 1, false, payload)
			if !tok.WaitTimeout(sampleTimeout) {
				return fmt.Errorf("publish %s: no PUBACK within %s", id, sampleTimeout)
			}
			return tok.Error()
		}
	}
	send := publish(topic)
	if err := ps.waitReady(ctx, "m", send); err != nil {
		return nil, err
	}
	b, err := newBridge(s, "onevent")
	if err != nil {
		return nil, err
	}
	if tok := sub.Subscribe(bridged, 1, receive(b)); tok.Wait() && tok.Error() != nil {
		return nil, fmt.Errorf("subscribe to %s: %w", bridged, tok.Error())
	}
	return ps.measure(ctx, n, warm, "m", send, publish(bridged), b)
}

// couchSamples writes documents (their _id the event id) to a fresh
// database that both the feed and a plain continuous _changes follower
// watch, and drops the database afterwards.
func couchSamples(ctx context.Context, s *stack, ps *probes, n, warm int, server string) (*feedSamples, error) {
	server = strings.TrimSuffix(server, "/")
	db := fmt.Sprintf("wisp-bench-%d", time.Now().UnixNano())
	dbURL := server + "/" + url.PathEscape(db)
	bridgedURL := dbURL + "-bridged"
	hc := &http.Client{Timeout: sampleTimeout}
	couch := func(method, u string, body []byte) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode >= 300 {
			err = fmt.Errorf("%s %s: %d %s", method, redactURL(u), resp.StatusCode, out)
		}
		return out, err
	}
	for _, u := range []string{dbURL, bridgedURL} {
		if _, err := couch(http.MethodPut, u, nil); err != nil {
			return nil, fmt.Errorf("create database %s: %w", redactURL(u), err)
		}
		defer func() { _, _ = couch(http.MethodDelete, u, nil) }()
	}
	if err := s.wireFeed(ctx, "couch-changes", "couchdb/changes", map[string]any{"url": server, "dbname": db}); err != nil {
		return nil, err
	}
	stopFollow, err := followChanges(ctx, dbURL, ps, nil)
	if err != nil {
		return nil, err
	}
	defer stopFollow()
	write := func(dbURL string) func(ctx context.Context, id string) error {
		return func(ctx context.Context, id string) error {
			_, err := couch(http.MethodPut, dbURL+"/"+url.PathEscape(id), []byte(`{"bench":true}`))
			return err
		}
	}
	send := write(dbURL)
	if err := ps.waitReady(ctx, "c", send); err != nil {
		return nil, err
	}
	b, err := newBridge(s, "onevent")
	if err != nil {
		return nil, err
	}
	stopBridge, err := followChanges(ctx, bridgedURL, ps, b)
	if err != nil {
		return nil, err
	}
	defer stopBridge()
	return ps.measure(ctx, n, warm, "c", send, write(bridgedURL), b)
}

// followChanges reads dbURL's continuous _changes feed from now on and
// reports each change's id as the direct path's arrival; with a bridge,
// it runs the action with each.
func followChanges(ctx context.Context, dbURL string, ps *probes, b *bridge) (stop func(), err error) {
	ctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, dbURL+"/_changes?feed=continuous&since=now&heartbeat=1000", nil)
	if err != nil {
		cancel()
		return nil, err
	}
	// Uncompressed: a gzip stream would hold changes back in the
	// server's compressor.
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("follow %s/_changes: %w", redactURL(dbURL), err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("follow %s/_changes: %d", redactURL(dbURL), resp.StatusCode)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			at := time.Now()
			var c struct{ ID string }
			if json.Unmarshal(sc.Bytes(), &c) != nil || c.ID == "" {
				continue
			}
			ps.arrived(c.ID, false, at)
			if b != nil {
				b.start(ctx, c.ID)
			}
		}
	}()
	return func() { cancel(); <-done }, nil
}

// redactURL drops a URL's password, for error messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
