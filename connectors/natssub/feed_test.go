package natssub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wispio/wisp/egress"
	"github.com/wispio/wisp/feeds"
	"github.com/wispio/wisp/feeds/feedstest"
	"github.com/wispio/wisp/internal/testenv"
)

// waitLimit bounds every wait for something the server sends; it is not
// a timing assertion.
const waitLimit = 20 * time.Second

// nextMessage decodes the sink's next event as the feed's payload.
func nextMessage(t *testing.T, sink *feedstest.Sink) Message {
	t.Helper()
	ev := sink.Next(t)
	var m Message
	if err := json.Unmarshal(ev.Payload, &m); err != nil {
		t.Fatalf("payload %s: %v", ev.Payload, err)
	}
	return m
}

// testProvider allows 127.0.0.1, where the suite's nats-server listens.
func testProvider() *Provider {
	cfg := DefaultConfig()
	cfg.RetryMin = 10 * time.Millisecond
	cfg.RetryMax = 100 * time.Millisecond
	cfg.ConnectTimeout = 5 * time.Second
	cfg.Egress = egress.New(netip.MustParsePrefix("127.0.0.1/32"))
	return New(cfg, slog.New(slog.DiscardHandler))
}

// unique returns a name of the test's own, fit for a subject token and a
// stream name.
func unique(t *testing.T) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()) + "_" + hex.EncodeToString(b)
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
	f, err := p.Start(t.Context(), reg, sink)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = f.Stop(context.Background()) })
	sink.WaitReport(t, true)
	return f
}

// client connects the test's own client to the suite's nats-server.
func client(t *testing.T, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatalf("connect to %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// TestFeedPayloadShapes: every message published on the subject (a
// wildcard) reaches the Sink once, with data as JSON when it parses, as a
// string when it is text, in dataBase64 when it is not UTF-8, and its
// headers and reply subject.
func TestFeedPayloadShapes(t *testing.T) {
	url := testenv.NATS(t)
	base := "wisp.test." + unique(t)
	sink := feedstest.NewSink()
	startFeed(t, testProvider(), "/guest/t", map[string]any{"url": url, "subject": base + ".>"}, sink)
	nc := client(t, url)
	msg := nats.NewMsg(base + ".h")
	msg.Header.Set("Kind", "greeting")
	msg.Data = []byte("hi")
	msg.Reply = "answers.here"
	for _, m := range []*nats.Msg{
		{Subject: base + ".json", Data: []byte(`{"a":[1,2]}`)},
		{Subject: base + ".text", Data: []byte("not json")},
		{Subject: base + ".bin", Data: []byte{0xff, 0x00, 0xfe}},
		{Subject: base + ".empty"},
		msg,
	} {
		if err := nc.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		subject, data, dataBase64, reply string
		headers                          map[string][]string
	}{
		{subject: base + ".json", data: `{"a":[1,2]}`},
		{subject: base + ".text", data: `"not json"`},
		{subject: base + ".bin", dataBase64: "/wD+"},
		{subject: base + ".empty", data: `""`},
		{subject: base + ".h", data: `"hi"`, reply: "answers.here", headers: map[string][]string{"Kind": {"greeting"}}},
	}
	for _, tt := range tests {
		got := nextMessage(t, sink)
		if got.Subject != tt.subject || string(got.Data) != tt.data || got.DataBase64 != tt.dataBase64 || got.Reply != tt.reply {
			t.Errorf("got %+v (data %s), want subject %s data %s dataBase64 %q reply %q", got, got.Data, tt.subject, tt.data, tt.dataBase64, tt.reply)
		}
		if fmt.Sprint(got.Headers) != fmt.Sprint(tt.headers) {
			t.Errorf("%s: headers %v, want %v", tt.subject, got.Headers, tt.headers)
		}
	}
}

// TestFeedQueueGroup: two feeds in one queue group share the messages:
// each message reaches exactly one of them.
func TestFeedQueueGroup(t *testing.T) {
	url := testenv.NATS(t)
	subject := "wisp.test." + unique(t)
	p := testProvider()
	a, b := feedstest.NewSink(), feedstest.NewSink()
	startFeed(t, p, "/guest/a", map[string]any{"url": url, "subject": subject, "queue": "workers"}, a)
	startFeed(t, p, "/guest/b", map[string]any{"url": url, "subject": subject, "queue": "workers"}, b)
	nc := client(t, url)
	const n = 40
	for i := range n {
		if err := nc.Publish(subject, []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	// Without the queue group both feeds would get all 2n messages: the
	// first n collected would repeat some and miss others.
	seen := map[string]int{}
	deadline := time.Now().Add(waitLimit)
	for a.Count()+b.Count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d messages delivered", a.Count()+b.Count(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, ev := range append(a.Events(), b.Events()...) {
		var m Message
		if err := json.Unmarshal(ev.Payload, &m); err != nil {
			t.Fatal(err)
		}
		seen[string(m.Data)]++
	}
	for i := range n {
		if c := seen[fmt.Sprint(i)]; c != 1 {
			t.Errorf("message %d delivered %d times among the first %d, want once", i, c, n)
		}
	}
}

// TestFeedRetriesRefusedDelivery: a delivery the Sink refuses is reported
// and retried, and the recovery reported.
func TestFeedRetriesRefusedDelivery(t *testing.T) {
	url := testenv.NATS(t)
	subject := "wisp.test." + unique(t)
	sink := feedstest.NewSink()
	startFeed(t, testProvider(), "/guest/t", map[string]any{"url": url, "subject": subject}, sink)
	sink.FailNext(2)
	if err := client(t, url).Publish(subject, []byte(`1`)); err != nil {
		t.Fatal(err)
	}
	if err := sink.WaitReport(t, false); !strings.Contains(err.Error(), "refused") {
		t.Errorf("report %v, want the refusal", err)
	}
	if got := nextMessage(t, sink); string(got.Data) != "1" {
		t.Errorf("delivered %s, want 1", got.Data)
	}
	sink.WaitReport(t, true)
}

// TestStopEndsTheSubscription: once Stop returns, the server has no
// subscriber on the subject any more (a request finds no responders).
func TestStopEndsTheSubscription(t *testing.T) {
	url := testenv.NATS(t)
	subject := "wisp.test." + unique(t)
	sink := feedstest.NewSink()
	f := startFeed(t, testProvider(), "/guest/t", map[string]any{"url": url, "subject": subject}, sink)
	nc := client(t, url)
	if _, err := nc.Request(subject, []byte(`"before"`), 50*time.Millisecond); !errors.Is(err, nats.ErrTimeout) {
		t.Fatalf("request while the feed runs: %v, want a timeout (the feed takes it, answers nothing)", err)
	}
	if got := nextMessage(t, sink); string(got.Data) != `"before"` {
		t.Fatalf("delivered %s", got.Data)
	}
	before := sink.Count()
	if err := f.Stop(t.Context()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	// The server notices the closed connection on its own time: poll.
	deadline := time.Now().Add(waitLimit)
	for {
		_, err := nc.Request(subject, []byte(`"after"`), 50*time.Millisecond)
		if errors.Is(err, nats.ErrNoResponders) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("request after Stop: %v, want no responders", err)
		}
	}
	if n := sink.Count(); n != before {
		t.Fatalf("%d events delivered after Stop", n-before)
	}
}

// TestJetStreamNothingLost: with stream, the feed is a durable consumer
// acked after the Sink holds each message: a refused delivery comes again,
// messages published while the feed is stopped arrive when it starts
// again, and Forget deletes the consumer.
func TestJetStreamNothingLost(t *testing.T) {
	url := testenv.NATS(t)
	js, err := jetstream.New(client(t, url))
	if err != nil {
		t.Fatal(err)
	}
	stream := unique(t)
	if _, err := js.CreateStream(t.Context(), jetstream.StreamConfig{Name: stream, Subjects: []string{stream + ".>"}, Storage: jetstream.MemoryStorage}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = js.DeleteStream(context.Background(), stream) })
	publish := func(subject, data string) {
		t.Helper()
		if _, err := js.Publish(t.Context(), subject, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	p := testProvider()
	params := map[string]any{"url": url, "subject": stream + ".orders.*", "stream": stream}
	const trigger = "/guest/orders"
	publish(stream+".orders.old", `"before the feed"`) // DeliverNew: not for this feed

	sink := feedstest.NewSink()
	f := startFeed(t, p, trigger, params, sink)
	sink.FailNext(1)
	publish(stream+".orders.a", `{"n":1}`)
	publish(stream+".other", `"not the subject"`)
	if err := sink.WaitReport(t, false); !strings.Contains(err.Error(), "left unacknowledged") {
		t.Errorf("report %v, want the refusal", err)
	}
	got := nextMessage(t, sink)
	if got.Subject != stream+".orders.a" || string(got.Data) != `{"n":1}` || got.Stream != stream || got.Sequence != 2 {
		t.Errorf("redelivered %+v (data %s), want orders.a, sequence 2 of %s", got, got.Data, stream)
	}
	if err := f.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}

	publish(stream+".orders.b", `"while stopped"`)
	sink2 := feedstest.NewSink()
	startFeed(t, p, trigger, params, sink2)
	if got := nextMessage(t, sink2); got.Subject != stream+".orders.b" || string(got.Data) != `"while stopped"` || got.Sequence != 4 {
		t.Errorf("after restart %+v (data %s), want orders.b, sequence 4", got, got.Data)
	}

	reg := feeds.Registration{Trigger: trigger, Provider: ProviderName, Feed: MessagesFeed, Params: rawParams(t, params)}
	if err := p.Forget(t.Context(), reg); err != nil {
		t.Fatalf("Forget: %v", err)
	}
	if _, err := js.Consumer(t.Context(), stream, DurableName(trigger)); !errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.Fatalf("consumer after Forget: %v, want not found", err)
	}
}
