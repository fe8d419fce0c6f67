package broker

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

const waitLimit = 20 * time.Second

func start(t *testing.T, cfg Config) *Broker {
	t.Helper()
	b, err := Start(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func connect(b *Broker, id, user, password string, onMessage paho.MessageHandler) (paho.Client, error) {
	c := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL()).SetClientID(id).
		SetUsername(user).SetPassword(password).SetDefaultPublishHandler(onMessage).SetAutoReconnect(false))
	tok := c.Connect()
	if !tok.WaitTimeout(waitLimit) {
		return nil, context.DeadlineExceeded
	}
	return c, tok.Error()
}

func TestBrokerRoundTrip(t *testing.T) {
	b := start(t, Config{Addr: "127.0.0.1:0"})
	if !strings.HasPrefix(b.URL(), "tcp://127.0.0.1:") || strings.HasSuffix(b.URL(), ":0") {
		t.Fatalf("URL = %q, want tcp://127.0.0.1:PORT with the port picked", b.URL())
	}
	got := make(chan paho.Message, 1)
	sub, err := connect(b, "sub", "", "", func(_ paho.Client, m paho.Message) { got <- m })
	if err != nil {
		t.Fatalf("anonymous subscriber: %v", err)
	}
	defer sub.Disconnect(0)
	if tok := sub.Subscribe("devices/+/state", 1, nil); !tok.WaitTimeout(waitLimit) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	pub, err := connect(b, "pub", "", "", nil)
	if err != nil {
		t.Fatalf("anonymous publisher: %v", err)
	}
	defer pub.Disconnect(0)
	if tok := pub.Publish("devices/lamp/state", 1, false, `{"on":true}`); !tok.WaitTimeout(waitLimit) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	select {
	case m := <-got:
		if m.Topic() != "devices/lamp/state" || string(m.Payload()) != `{"on":true}` || m.Qos() != 1 {
			t.Errorf("received %s %q qos %d", m.Topic(), m.Payload(), m.Qos())
		}
	case <-time.After(waitLimit):
		t.Fatal("the subscriber received nothing")
	}
}

func TestBrokerUsers(t *testing.T) {
	b := start(t, Config{Addr: "127.0.0.1:0", Users: map[string]string{"device": "pw"}})
	tests := []struct {
		user, password string
		ok             bool
	}{
		{"device", "pw", true},
		{"device", "wrong", false},
		{"", "", false},
		{"other", "pw", false},
	}
	for _, tt := range tests {
		c, err := connect(b, "c-"+tt.user+tt.password, tt.user, tt.password, nil)
		if (err == nil) != tt.ok {
			t.Errorf("connect as %q/%q: err = %v, want ok %v", tt.user, tt.password, err, tt.ok)
		}
		if err == nil {
			c.Disconnect(0)
		}
	}
}

func TestBrokerBusyAddress(t *testing.T) {
	b := start(t, Config{Addr: "127.0.0.1:0"})
	_, err := Start(context.Background(), Config{Addr: b.Addr().String()}, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "listen on "+b.Addr().String()) {
		t.Fatalf("second Start on %s = %v, want a listen error naming the address", b.Addr(), err)
	}
}
