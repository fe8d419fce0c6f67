package broker

import (
	"context"
	"log/slog"
	"strconv"
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

// TestBrokerPacketSize: a publish larger than the packet limit is refused
// (the broker drops the publisher, as MQTT has it) and reaches no
// subscriber; one within the limit passes. The default limit is the
// feeds' payload limit and room for the topic.
func TestBrokerPacketSize(t *testing.T) {
	for _, tt := range []struct {
		name     string
		cfg      Config
		big, fit int // payload sizes
	}{
		{"default", Config{Addr: "127.0.0.1:0"}, 2 << 20, 1 << 20},
		{"configured", Config{Addr: "127.0.0.1:0", MaxPacketSize: 64 << 10}, 128 << 10, 32 << 10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := start(t, tt.cfg)
			got := make(chan paho.Message, 4)
			sub, err := connect(b, "sub", "", "", func(_ paho.Client, m paho.Message) { got <- m })
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Disconnect(0)
			if tok := sub.Subscribe("big/#", 1, nil); !tok.WaitTimeout(waitLimit) || tok.Error() != nil {
				t.Fatalf("subscribe: %v", tok.Error())
			}
			for _, p := range []struct {
				size int
				ok   bool
			}{{tt.big, false}, {tt.fit, true}} {
				pub, err := connect(b, "pub"+strconv.Itoa(p.size), "", "", nil)
				if err != nil {
					t.Fatal(err)
				}
				tok := pub.Publish("big/"+strconv.Itoa(p.size), 1, false, strings.Repeat("x", p.size))
				if !tok.WaitTimeout(waitLimit) {
					t.Fatalf("publish of %d bytes: no answer", p.size)
				}
				if (tok.Error() == nil) != p.ok {
					t.Fatalf("publish of %d bytes: err = %v, want ok %v", p.size, tok.Error(), p.ok)
				}
				pub.Disconnect(0)
			}
			select {
			case m := <-got:
				if len(m.Payload()) != tt.fit {
					t.Fatalf("the subscriber received %d bytes first, want the %d that fit", len(m.Payload()), tt.fit)
				}
			case <-time.After(waitLimit):
				t.Fatal("the subscriber received nothing")
			}
		})
	}
}
