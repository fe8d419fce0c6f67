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

// measure sends n events with send (after warm of them unmeasured) and
// returns the sorted latencies of both paths.
func (ps *probes) measure(ctx context.Context, n, warm int, prefix string, send func(ctx context.Context, id string) error) (wisp, raw []time.Duration, err error) {
	for i := range n + warm {
		id := fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), i)
		p := ps.open(id)
		t0 := time.Now()
		if err := send(ctx, id); err != nil {
			ps.close(id)
			return nil, nil, err
		}
		var tw, tr time.Time
		timeout := time.NewTimer(sampleTimeout)
		for tw.IsZero() || tr.IsZero() {
			select {
			case tw = <-p.wisp:
			case tr = <-p.raw:
			case <-timeout.C:
				ps.close(id)
				return nil, nil, fmt.Errorf("event %s: not seen within %s (action started: %t, direct path: %t)", id, sampleTimeout, !tw.IsZero(), !tr.IsZero())
			case <-ctx.Done():
				ps.close(id)
				return nil, nil, ctx.Err()
			}
		}
		timeout.Stop()
		ps.close(id)
		if i >= warm {
			wisp, raw = append(wisp, tw.Sub(t0)), append(raw, tr.Sub(t0))
		}
	}
	sortDurations(wisp)
	sortDurations(raw)
	return wisp, raw, nil
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
		wisp, raw, err := mqttSamples(ctx, s, ps, n, warm, mqttURL)
		if err != nil {
			return fmt.Errorf("mqtt: %w", err)
		}
		report(w, "MQTT publish → action start (QoS 1, /whisk.system/mqtt/messages) vs publish → receive by a paho subscriber", wisp, raw)
	}
	if couchURL != "" {
		wisp, raw, err := couchSamples(ctx, s, ps, n, warm, couchURL)
		if err != nil {
			return fmt.Errorf("couchdb: %w", err)
		}
		report(w, "CouchDB write → action start (/whisk.system/couchdb/changes) vs write → change on a continuous _changes follower", wisp, raw)
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
func mqttSamples(ctx context.Context, s *stack, ps *probes, n, warm int, broker string) (wisp, raw []time.Duration, err error) {
	topic := fmt.Sprintf("wisp-bench/%d/events", time.Now().UnixNano())
	if err := s.wireFeed(ctx, "mqtt-events", "mqtt/messages", map[string]any{"url": broker, "topic": topic, "qos": 1}); err != nil {
		return nil, nil, err
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
		return nil, nil, err
	}
	defer sub.Disconnect(0)
	if tok := sub.Subscribe(topic, 1, func(_ paho.Client, m paho.Message) {
		at := time.Now()
		var ev struct{ ID string }
		if json.Unmarshal(m.Payload(), &ev) == nil {
			ps.arrived(ev.ID, false, at)
		}
	}); tok.Wait() && tok.Error() != nil {
		return nil, nil, fmt.Errorf("subscribe to %s: %w", topic, tok.Error())
	}
	pub, err := connect("pub", nil)
	if err != nil {
		return nil, nil, err
	}
	defer pub.Disconnect(0)
	send := func(ctx context.Context, id string) error {
		payload, _ := json.Marshal(map[string]string{"id": id})
		tok := pub.Publish(topic, 1, false, payload)
		if !tok.WaitTimeout(sampleTimeout) {
			return fmt.Errorf("publish %s: no PUBACK within %s", id, sampleTimeout)
		}
		return tok.Error()
	}
	if err := ps.waitReady(ctx, "m", send); err != nil {
		return nil, nil, err
	}
	return ps.measure(ctx, n, warm, "m", send)
}

// couchSamples writes documents (their _id the event id) to a fresh
// database that both the feed and a plain continuous _changes follower
// watch, and drops the database afterwards.
func couchSamples(ctx context.Context, s *stack, ps *probes, n, warm int, server string) (wisp, raw []time.Duration, err error) {
	server = strings.TrimSuffix(server, "/")
	db := fmt.Sprintf("wisp-bench-%d", time.Now().UnixNano())
	dbURL := server + "/" + url.PathEscape(db)
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
	if _, err := couch(http.MethodPut, dbURL, nil); err != nil {
		return nil, nil, fmt.Errorf("create database %s: %w", db, err)
	}
	defer func() { _, _ = couch(http.MethodDelete, dbURL, nil) }()
	if err := s.wireFeed(ctx, "couch-changes", "couchdb/changes", map[string]any{"url": server, "dbname": db}); err != nil {
		return nil, nil, err
	}
	stopFollow, err := followChanges(ctx, dbURL, ps)
	if err != nil {
		return nil, nil, err
	}
	defer stopFollow()
	send := func(ctx context.Context, id string) error {
		_, err := couch(http.MethodPut, dbURL+"/"+url.PathEscape(id), []byte(`{"bench":true}`))
		return err
	}
	if err := ps.waitReady(ctx, "c", send); err != nil {
		return nil, nil, err
	}
	return ps.measure(ctx, n, warm, "c", send)
}

// followChanges reads dbURL's continuous _changes feed from now on and
// reports each change's id as the direct path's arrival.
func followChanges(ctx context.Context, dbURL string, ps *probes) (stop func(), err error) {
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
			if json.Unmarshal(sc.Bytes(), &c) == nil && c.ID != "" {
				ps.arrived(c.ID, false, at)
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
