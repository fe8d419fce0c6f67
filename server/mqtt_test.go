package server

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// TestMQTTPublishToEmbeddedBroker: `wisp serve --mqtt` runs a broker that
// a device (a plain paho client) reaches, and /whisk.system/mqtt/publish
// publishes to it.
func TestMQTTPublishToEmbeddedBroker(t *testing.T) {
	srv, c := startServer(t, func(cfg *Config) { cfg.MQTT = "127.0.0.1:0" })
	url := "tcp://" + srv.MQTTAddr()

	got := make(chan paho.Message, 1)
	device := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("device-1").
		SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) { got <- m }))
	if tok := device.Connect(); !tok.WaitTimeout(20*time.Second) || tok.Error() != nil {
		t.Fatalf("a device cannot connect to the embedded broker at %s: %v", url, tok.Error())
	}
	defer device.Disconnect(0)
	if tok := device.Subscribe("lamps/+/set", 1, nil); !tok.WaitTimeout(20*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}

	act := invoke(t, c, "/whisk.system/mqtt/publish", map[string]any{
		"url": url, "topic": "lamps/kitchen/set", "message": map[string]any{"on": true}, "qos": 1,
	})
	if !act.Response.Success {
		t.Fatalf("publish failed: %s", act.Response.Result)
	}
	select {
	case m := <-got:
		if m.Topic() != "lamps/kitchen/set" || string(m.Payload()) != `{"on":true}` {
			t.Errorf("the device received %s %q", m.Topic(), m.Payload())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the device received nothing")
	}

	// A bad parameter is the caller's error, named in the result.
	act = invoke(t, c, "/whisk.system/mqtt/publish", map[string]any{"url": url, "topic": "lamps/#", "message": "x"})
	var res struct{ Error string }
	_ = json.Unmarshal(act.Response.Result, &res)
	if act.Response.Success || !strings.HasPrefix(res.Error, "topic: ") {
		t.Errorf("publish to a wildcard topic: %s, want an error about topic", act.Response.Result)
	}
}
