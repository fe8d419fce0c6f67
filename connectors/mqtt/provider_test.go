package mqtt

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/wispio/wisp/actions/builtin"
	"github.com/wispio/wisp/connectors/mqtt/broker"
	"github.com/wispio/wisp/feeds"
	"github.com/wispio/wisp/feeds/feedstest"
	"github.com/wispio/wisp/internal/testenv"
)

// closedPort returns tcp://127.0.0.1:PORT where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return "tcp://" + addr
}

// startBroker starts an embedded broker that accepts only user/secret-pw.
func startBroker(t *testing.T, users map[string]string) *broker.Broker {
	t.Helper()
	b, err := broker.Start(context.Background(), broker.Config{Addr: "127.0.0.1:0", Users: users}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("start the embedded broker: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func TestValidate(t *testing.T) {
	url := testenv.Mosquitto(t)
	secured := startBroker(t, map[string]string{"device": "secret-pw"})
	tests := []struct {
		name    string
		feed    string
		params  map[string]any
		wantErr string // "" for valid
	}{
		{"valid", "messages", map[string]any{"url": url, "topic": "a/+/c/#"}, ""},
		{"valid credentials", "messages", map[string]any{"url": secured.URL(), "topic": "a", "username": "device", "password": "secret-pw"}, ""},
		{"unknown feed", "changes", map[string]any{"url": url, "topic": "a"}, `feed: "changes"`},
		{"bad url", "messages", map[string]any{"url": "not a url", "topic": "a"}, "url: "},
		{"unreachable port", "messages", map[string]any{"url": closedPort(t), "topic": "a"}, "url: cannot connect to the broker"},
		{"bad topic", "messages", map[string]any{"url": url, "topic": "a/#/b"}, "topic: "},
		{"bad qos", "messages", map[string]any{"url": url, "topic": "a", "qos": 5}, "qos: "},
		{"wrong password", "messages", map[string]any{"url": secured.URL(), "topic": "a", "username": "device", "password": "wrong-secret"}, "url: cannot connect to the broker"},
		{"no credentials", "messages", map[string]any{"url": secured.URL(), "topic": "a"}, "url: cannot connect to the broker"},
	}
	p := testProvider()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Validate(context.Background(), tt.feed, rawParams(t, tt.params))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Fatalf("Validate = %v, want an error starting %q", err, tt.wantErr)
			}
			if !errors.Is(err, feeds.ErrInvalid) {
				t.Errorf("Validate = %v, not a feeds.ErrInvalid", err)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("Validate = %v repeats the password", err)
			}
		})
	}
}

// TestFeedReconnects: a feed whose broker goes away reports it, and
// reports nil once the broker is back and the feed subscribed again.
func TestFeedReconnects(t *testing.T) {
	b := startBroker(t, nil)
	addr := b.Addr().String()
	sink := feedstest.NewSink()
	startFeed(t, testProvider(), "/guest/reconnects", map[string]any{"url": b.URL(), "topic": "r/#"}, sink)

	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sink.WaitReport(t, false); !strings.Contains(err.Error(), addr) {
		t.Errorf("reported %v, want the lost broker's address", err)
	}
	b2, err := broker.Start(context.Background(), broker.Config{Addr: addr}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("restart the broker on %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = b2.Close() })
	sink.WaitReport(t, true)
	publish(t, publisher(t, b2.URL()), "r/x", 1, false, []byte(`"back"`))
	if m := nextMessage(t, sink); string(m.Payload) != `"back"` {
		t.Errorf("after reconnecting got %s", m.Payload)
	}
}

func TestPublish(t *testing.T) {
	url := testenv.Mosquitto(t)
	topic := uniqueTopic(t)
	sink := feedstest.NewSink()
	startFeed(t, testProvider(), "/guest/publish", map[string]any{"url": url, "topic": topic + "/#", "qos": 2}, sink)
	p := testProvider()
	tests := []struct {
		params  map[string]any
		result  PublishResult
		payload string
	}{
		{map[string]any{"url": url, "topic": topic + "/text", "message": "hello"},
			PublishResult{Topic: topic + "/text", QoS: 0, Bytes: 5}, `"hello"`},
		{map[string]any{"url": url, "topic": topic + "/json", "message": map[string]any{"on": true}, "qos": 1},
			PublishResult{Topic: topic + "/json", QoS: 1, Bytes: 11}, `{"on":true}`},
		{map[string]any{"url": url, "topic": topic + "/two", "message": 42, "qos": "2"},
			PublishResult{Topic: topic + "/two", QoS: 2, Bytes: 2}, `42`},
	}
	for _, tt := range tests {
		res, err := p.Publish(context.Background(), builtin.Call{Action: "/whisk.system/mqtt/publish", Params: mustJSON(t, tt.params)})
		if err != nil {
			t.Fatalf("Publish(%v) = %v", tt.params, err)
		}
		var got PublishResult
		if err := json.Unmarshal(res, &got); err != nil || got != tt.result {
			t.Errorf("Publish result %s, want %+v", res, tt.result)
		}
		m := nextMessage(t, sink)
		if m.Topic != tt.result.Topic || string(m.Payload) != tt.payload || m.QoS != tt.result.QoS {
			t.Errorf("the feed got %+v (payload %s), want topic %s payload %s qos %d", m, m.Payload, tt.result.Topic, tt.payload, tt.result.QoS)
		}
	}

	// retain: a feed subscribing later still gets the message.
	retained := topic + "/retained-" + throwawayClientID("")
	if _, err := p.Publish(context.Background(), builtin.Call{Params: mustJSON(t, map[string]any{"url": url, "topic": retained, "message": "kept", "retain": true, "qos": 1})}); err != nil {
		t.Fatalf("Publish retained: %v", err)
	}
	t.Cleanup(func() {
		_, _ = p.Publish(context.Background(), builtin.Call{Params: mustJSON(t, map[string]any{"url": url, "topic": retained, "message": "", "retain": true})})
	})
	_ = nextMessage(t, sink) // the live feed saw it too
	late := feedstest.NewSink()
	startFeed(t, p, "/guest/publish-late", map[string]any{"url": url, "topic": retained}, late)
	if m := nextMessage(t, late); !m.Retained || string(m.Payload) != `"kept"` {
		t.Errorf("retained publish reached a later feed as %+v", m)
	}
}

func TestPublishErrors(t *testing.T) {
	url := testenv.Mosquitto(t)
	secured := startBroker(t, map[string]string{"device": "secret-pw"})
	tests := []struct {
		params  map[string]any
		wantErr string
	}{
		{map[string]any{"topic": "a", "message": "m"}, "url: required"},
		{map[string]any{"url": url, "message": "m"}, "topic: required"},
		{map[string]any{"url": url, "topic": "a/+", "message": "m"}, "topic: "},
		{map[string]any{"url": url, "topic": "a"}, "message: required"},
		{map[string]any{"url": url, "topic": "a", "message": "m", "qos": 3}, "qos: "},
		{map[string]any{"url": url, "topic": "a", "message": "m", "retain": "yes"}, "retain: "},
		{map[string]any{"url": closedPort(t), "topic": "a", "message": "m"}, "url: cannot connect"},
		{map[string]any{"url": secured.URL(), "topic": "a", "message": "m", "username": "device", "password": "wrong-secret"}, "url: cannot connect"},
	}
	p := testProvider()
	for _, tt := range tests {
		_, err := p.Publish(context.Background(), builtin.Call{Params: mustJSON(t, tt.params)})
		if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
			t.Errorf("Publish(%v) = %v, want an error starting %q", tt.params, err, tt.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("Publish error %v repeats the password", err)
		}
	}
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
