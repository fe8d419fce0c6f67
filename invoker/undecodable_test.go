package invoker

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"github.com/wispio/wisp/bus"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/routing"
)

// recordingSink keeps what the invoker writes.
type recordingSink struct {
	mu   sync.Mutex
	acts []*entity.Activation
	fail error
}

func (s *recordingSink) BeginWrite(ctx context.Context, acts []*entity.Activation) (func(context.Context) error, error) {
	err := s.WriteActivations(ctx, acts)
	return func(context.Context) error { return err }, nil
}

func (s *recordingSink) WriteActivations(_ context.Context, acts []*entity.Activation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.acts = append(s.acts, acts...)
	return nil
}

// TestUndecodableInvocationIsRecorded: an invocation message that does not
// decode (params nesting 10,000 levels, what issue 22 saw dropped) becomes
// a whisk internal error record under the message's activation id and the
// caller's namespace, and the waiting controller gets it; a message with
// no namespace to record under is the only one dropped (logged).
func TestUndecodableInvocationIsRecorded(t *testing.T) {
	deep := strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000)
	id := entity.NewActivationID()
	tests := []struct {
		name     string
		id       string
		payload  string
		want     bool // a record is written
		wantName string
	}{
		{"deep params", id, `{"activationId":"` + id + `","action":{"namespace":"pub","name":"deep"},"subject":"caller","params":{"v":` + deep + `},"replyTo":"c1"}`, true, "deep"},
		{"deep params before the subject", id, `{"params":` + deep + `,"action":{"namespace":"pub","package":"shared","name":"a"},"subject":"caller","replyTo":"c1"}`, true, "shared/a"},
		{"truncated after the subject", id, `{"action":{"namespace":"ns","name":"a"},"subject":"ns","replyTo":"c1","params":{"v":[1,`, true, "a"},
		{"no namespace", id, `{"params":` + deep + `}`, false, ""},
		{"not an activation id", "x", `{"action":{"namespace":"ns","name":"a"},"subject":"ns","params":` + deep + `}`, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &recordingSink{}
			pubsub := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 4}, watermill.NopLogger{})
			t.Cleanup(func() { _ = pubsub.Close() })
			completions, err := pubsub.Subscribe(t.Context(), bus.CompletionsTopic("c1"))
			if err != nil {
				t.Fatal(err)
			}
			inv := New(Config{ID: "i0"}, nil, nil, sink, pubsub, slog.New(slog.NewTextHandler(io.Discard, nil)))
			msg := message.NewMessage(tt.id, []byte(tt.payload))
			inv.consume(msg)
			select {
			case <-msg.Acked():
			default:
				t.Fatal("the message was not acked")
			}
			if !tt.want {
				if len(sink.acts) != 0 {
					t.Fatalf("recorded %+v, want nothing", sink.acts[0])
				}
				return
			}
			if len(sink.acts) != 1 {
				t.Fatalf("recorded %d activations, want 1", len(sink.acts))
			}
			a := sink.acts[0]
			if a.ActivationID != id || a.Namespace != "caller" && a.Namespace != "ns" || a.Name != tt.wantName ||
				a.Response.StatusCode != entity.StatusWhiskError || !strings.Contains(string(a.Response.Result), "could not decode the invocation") {
				t.Fatalf("record = %+v %s", a, a.Response.Result)
			}
			if _, err := json.Marshal(a); err != nil {
				t.Fatal(err)
			}
			c := <-completions
			var done routing.Completion
			if err := json.Unmarshal(c.Payload, &done); err != nil || done.Activation.ActivationID != id {
				t.Fatalf("completion %s (%v)", c.Payload, err)
			}
			c.Ack()
		})
	}
}

// TestUndecodableInvocationNackedWhenNotRecorded: on a durable bus the
// message is acked only once its error record is written.
func TestUndecodableInvocationNackedWhenNotRecorded(t *testing.T) {
	sink := &recordingSink{fail: errors.New("store down")}
	inv := New(Config{ID: "i0"}, nil, nil, sink, gochannel.NewGoChannel(gochannel.Config{}, watermill.NopLogger{}), slog.New(slog.NewTextHandler(io.Discard, nil)))
	msg := message.NewMessage(entity.NewActivationID(), []byte(`{"action":{"namespace":"ns","name":"a"},"subject":"ns","params":{`))
	inv.consume(msg)
	select {
	case <-msg.Nacked():
	case <-msg.Acked():
		t.Fatal("acked a message whose record was not written")
	}
}
