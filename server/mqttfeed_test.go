package server

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/wispio/wisp/internal/testenv"
)

// TestMQTTFeedEndToEnd wires a trigger to /whisk.system/mqtt/messages on
// the real Mosquitto through the feed manager: a device's message runs the
// rule's action with the message as its payload, with the publish action
// as the device; after DELETE nothing is registered.
func TestMQTTFeedEndToEnd(t *testing.T) {
	broker := testenv.Mosquitto(t)
	_, a := startTriggerServer(t, allowLoopback)
	a.action("onreading", 1)
	a.must(200, "PUT", "_/triggers/readings", map[string]any{"annotations": []map[string]any{{"key": "feed", "value": "/whisk.system/mqtt/messages"}}})
	a.rule("R", "readings", "onreading")

	topic := fmt.Sprintf("wisp-test/%d/sensors", time.Now().UnixNano())
	status, res := a.feedCall("mqtt/messages", "CREATE", "readings", map[string]any{"url": broker, "topic": topic + "/+", "qos": 1})
	if status != 200 || res["ok"] != true {
		t.Fatalf("CREATE = %d %v", status, res)
	}
	a.must(200, "POST", "whisk.system/actions/mqtt/publish?blocking=true", map[string]any{
		"url": broker, "topic": topic + "/kitchen", "message": map[string]any{"celsius": 21.5}, "qos": 1,
	})
	waitFor(t, "the reading to run onreading", func() bool {
		for _, act := range a.activationsOf("onreading") {
			var r struct {
				Echo struct {
					Topic   string
					Payload map[string]any
				}
			}
			if json.Unmarshal(act.Response.Result, &r) == nil && r.Echo.Topic == topic+"/kitchen" && r.Echo.Payload["celsius"] == 21.5 {
				return true
			}
		}
		return false
	})
	status, res = a.feedCall("mqtt/messages", "DELETE", "readings", nil)
	if status != 200 {
		t.Fatalf("DELETE = %d %v", status, res)
	}
	status, res = a.feedCall("mqtt/messages", "READ", "readings", nil)
	if status == 200 {
		t.Fatalf("READ after DELETE = %d %v", status, res)
	}
}
