package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// mqttRun publishes numbered QoS 1 messages to the feed's topic on a
// broker that outlives the kill, and checks the feed's activations.
type mqttRun struct {
	client paho.Client
	topic  string

	mu       sync.Mutex // guards accepted
	accepted map[int]bool
}

func newMQTTRun(url, topic string) (*mqttRun, error) {
	opts := paho.NewClientOptions().AddBroker(url).
		SetClientID("wisp-chaos-pub-" + strconv.FormatInt(time.Now().UnixNano(), 36)).
		SetConnectTimeout(10 * time.Second)
	c := paho.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return nil, fmt.Errorf("connect to the MQTT broker %s: %v", url, tok.Error())
	}
	return &mqttRun{client: c, topic: topic, accepted: map[int]bool{}}, nil
}

func (m *mqttRun) close() { m.client.Disconnect(250) }

// publishFrom publishes message {"seq": n} for each n received; a message
// counts as accepted once the broker acknowledged it (PUBACK).
func (m *mqttRun) publishFrom(due <-chan int) {
	for n := range due {
		body, _ := json.Marshal(map[string]int{"seq": n})
		tok := m.client.Publish(m.topic, 1, false, body)
		if tok.WaitTimeout(10*time.Second) && tok.Error() == nil {
			m.mu.Lock()
			m.accepted[n] = true
			m.mu.Unlock()
		}
	}
}

// check waits up to settle for an activation of mq per accepted message.
func (m *mqttRun) check(ctx context.Context, a *apiClient, settle time.Duration) (Row, error) {
	row := Row{What: "MQTT QoS 1 messages", Accepted: len(m.accepted)}
	deadline := time.Now().Add(settle)
	var seen map[int]int
	for {
		acts, err := a.list(ctx, "mq")
		if err != nil {
			return row, err
		}
		seen = map[int]int{}
		for _, act := range acts {
			var r struct {
				Result struct {
					Payload struct {
						Seq *int `json:"seq"`
					} `json:"payload"`
				} `json:"result"`
			}
			if json.Unmarshal(act.Response, &r) == nil && r.Result.Payload.Seq != nil {
				seen[*r.Result.Payload.Seq]++
			}
		}
		missing := 0
		for n := range m.accepted {
			if seen[n] == 0 {
				missing++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	for n := range m.accepted {
		switch c := seen[n]; {
		case c == 0:
			row.Missing++
			row.Examples = appendExample(row.Examples, "seq "+strconv.Itoa(n))
		default:
			row.Duplicated += c - 1
		}
	}
	row.Recorded = row.Accepted - row.Missing
	return row, nil
}
