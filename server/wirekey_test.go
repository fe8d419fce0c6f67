package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"

	"github.com/wispio/wisp/bus"
	"github.com/wispio/wisp/internal/testenv"
)

// tapBus records every message published on the bus it wraps.
type tapBus struct {
	bus.Bus
	mu   sync.Mutex // guards msgs
	msgs []string   // topic, metadata and payload of each
}

func (b *tapBus) Publish(topic string, msgs ...*message.Message) error {
	b.mu.Lock()
	for _, m := range msgs {
		b.msgs = append(b.msgs, fmt.Sprintf("%s %v %s", topic, m.Metadata, m.Payload))
	}
	b.mu.Unlock()
	return b.Bus.Publish(topic, msgs...)
}

// leaking returns the published messages that hold secret.
func (b *tapBus) leaking(secret string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, m := range b.msgs {
		if strings.Contains(m, secret) {
			out = append(out, m)
		}
	}
	return out
}

// topics counts the messages published per topic.
func (b *tapBus) topics() map[string]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := map[string]int{}
	for _, m := range b.msgs {
		topic, _, _ := strings.Cut(m, " ")
		n[topic]++
	}
	return n
}

// TestAPIKeyStaysOffTheBus: a fire (the triggers queue), a non-blocking
// sequence (the compositions queue) and the invocations they lead to carry
// the caller's namespace, never its API key, on either bus; on NATS the
// bytes on the wire are read too.
func TestAPIKeyStaysOffTheBus(t *testing.T) {
	for _, busName := range []string{"embedded", "nats"} {
		t.Run(busName, func(t *testing.T) {
			tap := &tapBus{}
			var wire *wireTap
			_, a := startTriggerServer(t, func(c *Config) {
				c.busTap = func(b bus.Bus) bus.Bus { tap.Bus = b; return tap }
				if busName == "nats" {
					c.Cluster.BusURL = testenv.NATS(t)
					c.Cluster.BusPrefix = fmt.Sprintf("wirekey%d", time.Now().UnixNano())
					c.Cluster.ID = "n1"
					wire = tapWire(t, c.Cluster.BusURL, c.Cluster.BusPrefix)
				}
			})
			a.action("hello", 1)
			a.must(200, "PUT", "_/triggers/T", map[string]any{})
			a.rule("R", "T", "hello")
			if acts := a.firedActions(a.fire("T", map[string]any{"q": "payload"}, http.StatusAccepted)); len(acts) != 1 {
				t.Fatalf("%d action activations, want 1", len(acts))
			}
			a.must(200, "PUT", "_/actions/seq", map[string]any{"exec": map[string]any{"kind": "sequence", "components": []string{"/_/hello", "/_/hello"}}})
			var started struct{ ActivationID string }
			out := a.must(http.StatusAccepted, "POST", "_/actions/seq", map[string]any{"q": "seq"})
			if err := json.Unmarshal(out, &started); err != nil {
				t.Fatalf("invoke seq: %s", out)
			}
			if seq := a.activation(started.ActivationID); !seq.Response.Success {
				t.Fatalf("sequence failed: %+v", seq.Response)
			}
			topics := tap.topics()
			if topics[bus.TopicTriggers] == 0 || topics[bus.TopicCompositions] == 0 {
				t.Fatalf("published %v: want the triggers and compositions queues used", topics)
			}
			if leaks := tap.leaking(a.auth.Key); len(leaks) > 0 {
				t.Errorf("the API key crossed the bus in %d messages, first: %s", len(leaks), leaks[0])
			}
			if wire != nil {
				if n, leaked := wire.holds([]byte(a.auth.Key)); n == 0 || leaked {
					t.Errorf("the NATS wire carried %d bytes, the API key among them: %v", n, leaked)
				}
			}
		})
	}
}

// wireTap records the raw bytes of every NATS message under prefix.
type wireTap struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func tapWire(t *testing.T, url, prefix string) *wireTap {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	w := &wireTap{}
	if _, err := nc.Subscribe(prefix+".>", func(m *nats.Msg) {
		w.mu.Lock()
		defer w.mu.Unlock()
		fmt.Fprintf(&w.buf, "%s %v %s\n", m.Subject, m.Header, m.Data)
	}); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return w
}

// holds returns how many bytes the wire carried and whether secret was
// among them.
func (w *wireTap) holds(secret []byte) (int, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Len(), bytes.Contains(w.buf.Bytes(), secret)
}
