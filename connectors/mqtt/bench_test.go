package mqtt

import (
	"context"
	"testing"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/wispio/wisp/feeds"
	"github.com/wispio/wisp/internal/testenv"
)

// BenchmarkDelivery measures publish → delivered, one QoS 1 message at a
// time on Mosquitto: "direct" is a plain paho subscriber (the broker's own
// latency), "feed" the messages feed up to its Sink.
func BenchmarkDelivery(b *testing.B) {
	url := testenv.Mosquitto(b)
	topic := "wisp-bench/" + throwawayClientID("")
	pub := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID(throwawayClientID("bench-pub-")))
	if tok := pub.Connect(); tok.Wait() && tok.Error() != nil {
		b.Fatal(tok.Error())
	}
	defer pub.Disconnect(0)
	run := func(b *testing.B, got <-chan struct{}) {
		for b.Loop() {
			if tok := pub.Publish(topic, 1, false, `{"n":1}`); tok.Wait() && tok.Error() != nil {
				b.Fatal(tok.Error())
			}
			<-got
		}
	}

	b.Run("direct", func(b *testing.B) {
		got := make(chan struct{}, 1)
		c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID(throwawayClientID("bench-sub-")).
			SetDefaultPublishHandler(func(paho.Client, paho.Message) { got <- struct{}{} }))
		if tok := c.Connect(); tok.Wait() && tok.Error() != nil {
			b.Fatal(tok.Error())
		}
		defer c.Disconnect(0)
		if tok := c.Subscribe(topic, 1, nil); tok.Wait() && tok.Error() != nil {
			b.Fatal(tok.Error())
		}
		run(b, got)
	})

	b.Run("feed", func(b *testing.B) {
		sink := &signalSink{got: make(chan struct{}, 1), subscribed: make(chan struct{}, 1)}
		reg := feeds.Registration{Trigger: "/bench/" + topic, Feed: MessagesFeed,
			Params: rawParams(b, map[string]any{"url": url, "topic": topic})}
		f, err := testProvider().Start(context.Background(), reg, sink)
		if err != nil {
			b.Fatal(err)
		}
		defer func() { _ = f.Stop(context.Background()) }()
		<-sink.subscribed
		run(b, sink.got)
	})
}

// signalSink signals each delivery and the first subscription.
type signalSink struct {
	got, subscribed chan struct{}
}

func (s *signalSink) Deliver(context.Context, feeds.Event) error { s.got <- struct{}{}; return nil }
func (s *signalSink) Report(err error) {
	if err == nil {
		select {
		case s.subscribed <- struct{}{}:
		default:
		}
	}
}
func (s *signalSink) Done(bool) {}
