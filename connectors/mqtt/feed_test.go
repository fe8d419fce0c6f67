package mqtt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/wispio/wisp/egress"
	"github.com/wispio/wisp/feeds"
	"github.com/wispio/wisp/feeds/feedstest"
	"github.com/wispio/wisp/internal/testenv"
)

// waitLimit bounds every wait on the broker: it fails a test that hangs,
// it measures nothing.
const waitLimit = 20 * time.Second

// nextMessage waits for the next event sink accepts and decodes it.
func nextMessage(t *testing.T, sink *feedstest.Sink) Message {
	t.Helper()
	ev := sink.Next(t)
	var m Message
	if err := json.Unmarshal(ev.Payload, &m); err != nil {
		t.Fatalf("payload %s: %v", ev.Payload, err)
	}
	return m
}

func testProvider() *Provider {
	cfg := DefaultConfig()
	cfg.RetryMin = 10 * time.Millisecond
	cfg.RetryMax = 100 * time.Millisecond
	cfg.ConnectTimeout = 5 * time.Second
	cfg.Egress = egress.New(netip.MustParsePrefix("127.0.0.1/32")) // mosquitto and the test brokers
	return New(cfg, slog.New(slog.DiscardHandler))
}

// uniqueTopic returns a topic prefix of the test's own.
func uniqueTopic(t *testing.T) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "wisp-test/" + t.Name() + "/" + hex.EncodeToString(b)
}

func rawParams(t testing.TB, params map[string]any) map[string]json.RawMessage {
	t.Helper()
	out := make(map[string]json.RawMessage, len(params))
	for k, v := range params {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = b
	}
	return out
}

// startFeed starts a messages feed and waits until it is subscribed.
func startFeed(t *testing.T, p *Provider, trigger string, params map[string]any, sink *feedstest.Sink) feeds.Feed {
	t.Helper()
	reg := feeds.Registration{Trigger: trigger, Provider: ProviderName, Feed: MessagesFeed, Params: rawParams(t, params)}
	f, err := p.Start(context.Background(), reg, sink)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = f.Stop(context.Background()) })
	sink.WaitReport(t, true)
	return f
}

// publisher connects a plain paho client to url.
func publisher(t *testing.T, url string) paho.Client {
	t.Helper()
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID(throwawayClientID("test-pub-")))
	if tok := c.Connect(); !tok.WaitTimeout(waitLimit) || tok.Error() != nil {
		t.Fatalf("connect the test publisher to %s: %v", url, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(0) })
	return c
}

func publish(t *testing.T, c paho.Client, topic string, qos byte, retained bool, body []byte) {
	t.Helper()
	if tok := c.Publish(topic, qos, retained, body); !tok.WaitTimeout(waitLimit) || tok.Error() != nil {
		t.Fatalf("publish to %s: %v", topic, tok.Error())
	}
}

func TestFeedWildcards(t *testing.T) {
	url := testenv.Mosquitto(t)
	p := testProvider()
	base := uniqueTopic(t)
	tests := []struct {
		filter string
		topics []string // published in this order
		want   []string // the topics delivered, in order
	}{
		{"/sensors/+/temp", []string{"/sensors/k/temp", "/sensors/k/hum", "/sensors/k/temp/x", "/sensors/b/temp"},
			[]string{"/sensors/k/temp", "/sensors/b/temp"}},
		{"/home/#", []string{"/home", "/home/a", "/other/a", "/home/a/b/c"},
			[]string{"/home", "/home/a", "/home/a/b/c"}},
		{"/exact", []string{"/exact/no", "/exact"}, []string{"/exact"}},
	}
	pub := publisher(t, url)
	for i, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			sink := feedstest.NewSink()
			startFeed(t, p, fmt.Sprintf("/guest/wild%d", i), map[string]any{"url": url, "topic": base + tt.filter, "qos": 1}, sink)
			for _, topic := range tt.topics {
				publish(t, pub, base+topic, 1, false, []byte(topic))
			}
			// A last message on the first wanted topic: everything published
			// before it has been routed by then (one publisher, in order).
			publish(t, pub, base+tt.want[0], 1, false, []byte("end"))
			var got []string
			for {
				m := nextMessage(t, sink)
				var body string
				_ = json.Unmarshal(m.Payload, &body)
				if body == "end" {
					break
				}
				got = append(got, m.Topic[len(base):])
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("delivered %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFeedPayloadShapes(t *testing.T) {
	url := testenv.Mosquitto(t)
	topic := uniqueTopic(t)
	sink := feedstest.NewSink()
	startFeed(t, testProvider(), "/guest/shapes", map[string]any{"url": url, "topic": topic, "qos": 2}, sink)
	pub := publisher(t, url)
	tests := []struct {
		body    []byte
		qos     byte
		payload string // JSON, "" when none
		base64  string
	}{
		{[]byte(`{"temp":21.5,"unit":"C"}`), 1, `{"temp":21.5,"unit":"C"}`, ""},
		{[]byte(`[1,2]`), 2, `[1,2]`, ""},
		{[]byte(`on`), 0, `"on"`, ""},
		{[]byte{0xde, 0xad, 0xbe, 0xef}, 1, "", "3q2+7w=="},
	}
	for _, tt := range tests {
		publish(t, pub, topic, tt.qos, false, tt.body)
		m := nextMessage(t, sink)
		if m.Topic != topic || m.QoS != tt.qos || m.Retained || string(m.Payload) != tt.payload || m.PayloadBase64 != tt.base64 {
			t.Errorf("published %q at qos %d, delivered %+v (payload %s)", tt.body, tt.qos, m, m.Payload)
		}
		if tt.qos > 0 && m.MessageID == 0 {
			t.Errorf("qos %d message delivered without a message id", tt.qos)
		}
	}

	// A retained message reaches a feed that subscribes after it.
	retainedTopic := topic + "/retained"
	publish(t, pub, retainedTopic, 1, true, []byte(`{"state":"open"}`))
	t.Cleanup(func() { publish(t, pub, retainedTopic, 1, true, nil) })
	sink2 := feedstest.NewSink()
	startFeed(t, testProvider(), "/guest/shapes-retained", map[string]any{"url": url, "topic": retainedTopic}, sink2)
	if m := nextMessage(t, sink2); !m.Retained || string(m.Payload) != `{"state":"open"}` {
		t.Errorf("retained message delivered as %+v (payload %s)", m, m.Payload)
	}
}

// TestFeedPersistentSession: QoS 1 messages published while no feed runs
// reach the next feed with the same client id, in order.
func TestFeedPersistentSession(t *testing.T) {
	url := testenv.Mosquitto(t)
	topic := uniqueTopic(t)
	p := testProvider()
	params := map[string]any{"url": url, "topic": topic + "/#"}
	sink := feedstest.NewSink()
	f := startFeed(t, p, "/guest/persistent", params, sink)
	if err := f.Stop(context.Background()); err != nil {
		t.Fatalf("Stop: %v", err)
	}

	pub := publisher(t, url)
	var want []string
	for i := range 5 {
		body := fmt.Sprintf(`{"n":%d}`, i)
		publish(t, pub, topic+"/while-down", 1, false, []byte(body))
		want = append(want, body)
	}

	sink2 := feedstest.NewSink()
	startFeed(t, p, "/guest/persistent", params, sink2) // same trigger, so the same client id
	var got []string
	for range want {
		got = append(got, string(nextMessage(t, sink2).Payload))
	}
	if !slices.Equal(got, want) {
		t.Errorf("after the restart the feed got %q, want %q", got, want)
	}
	if n := sink.Count(); n != 0 {
		t.Errorf("the stopped feed delivered %d events", n)
	}

	// Another trigger's feed has its own session: it saw nothing of that.
	sink3 := feedstest.NewSink()
	startFeed(t, p, "/guest/other", params, sink3)
	publish(t, pub, topic+"/after", 1, false, []byte(`"after"`))
	if m := nextMessage(t, sink3); string(m.Payload) != `"after"` {
		t.Errorf("the other trigger's feed got %s first, want only what was published after it started", m.Payload)
	}
}

// TestFeedDeliverFailure: a message the sink refuses is not acknowledged;
// the feed reports the failure, reconnects and the broker redelivers it,
// followed by the next one, in order.
func TestFeedDeliverFailure(t *testing.T) {
	url := testenv.Mosquitto(t)
	topic := uniqueTopic(t)
	sink := feedstest.NewSink()
	startFeed(t, testProvider(), "/guest/failing", map[string]any{"url": url, "topic": topic}, sink)
	sink.FailNext(1)
	pub := publisher(t, url)
	publish(t, pub, topic, 1, false, []byte(`"first"`))
	publish(t, pub, topic, 1, false, []byte(`"second"`))

	if err := sink.WaitReport(t, false); err == nil {
		t.Fatal("no failure reported")
	}
	sink.WaitReport(t, true) // reconnected
	first, second := nextMessage(t, sink), nextMessage(t, sink)
	if string(first.Payload) != `"first"` || !first.Duplicate || string(second.Payload) != `"second"` {
		t.Errorf("after the failed delivery got %+v then %+v, want first (duplicate) then second", first, second)
	}
	publish(t, pub, topic, 1, false, []byte(`"third"`))
	if m := nextMessage(t, sink); string(m.Payload) != `"third"` {
		t.Errorf("got %s, want third (nothing delivered twice)", m.Payload)
	}
}

// TestFeedTopicChangeAndForget: a feed restarted with another topic (an
// UPDATE) ignores what its kept session still gets on the old one; after
// Forget the session and its queued messages are gone.
func TestFeedTopicChangeAndForget(t *testing.T) {
	url := testenv.Mosquitto(t)
	base := uniqueTopic(t)
	p := testProvider()
	pub := publisher(t, url)
	const trigger = "/guest/changing"

	sink := feedstest.NewSink()
	f := startFeed(t, p, trigger, map[string]any{"url": url, "topic": base + "/old"}, sink)
	if err := f.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	newParams := map[string]any{"url": url, "topic": base + "/new"}
	f = startFeed(t, p, trigger, newParams, sink)
	publish(t, pub, base+"/old", 1, false, []byte(`"old"`))
	publish(t, pub, base+"/new", 1, false, []byte(`"new"`))
	if m := nextMessage(t, sink); m.Topic != base+"/new" {
		t.Errorf("after the topic change got a message on %s, want only %s/new", m.Topic, base)
	}

	if err := f.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	reg := feeds.Registration{Trigger: trigger, Provider: ProviderName, Feed: MessagesFeed, Params: rawParams(t, newParams)}
	if err := p.Forget(context.Background(), reg); err != nil {
		t.Fatalf("Forget: %v", err)
	}
	publish(t, pub, base+"/new", 1, false, []byte(`"while forgotten"`))
	startFeed(t, p, trigger, newParams, sink)
	publish(t, pub, base+"/new", 1, false, []byte(`"after"`))
	if m := nextMessage(t, sink); string(m.Payload) != `"after"` {
		t.Errorf("after Forget the restarted feed got %s first, want only what was published after it started", m.Payload)
	}
}
