package routing

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/wispio/wisp/bus"
	"github.com/wispio/wisp/entity"
)

type recordingSink struct {
	acts []*entity.Activation
	err  error
}

func (s *recordingSink) WriteActivations(_ context.Context, acts []*entity.Activation) error {
	if s.err != nil {
		return s.err
	}
	s.acts = append(s.acts, acts...)
	return nil
}

// TestQueuedFireThatDoesNotDecodeIsRecorded: an accepted fire whose queue
// message does not decode becomes a whisk internal error trigger
// activation under the fire's id (its 202 named it), not a silent drop;
// a failed write leaves the message for a redelivery.
func TestQueuedFireThatDoesNotDecodeIsRecorded(t *testing.T) {
	id := entity.NewActivationID()
	deep := strings.Repeat("[", 10_001) + strings.Repeat("]", 10_001)
	tests := []struct {
		name, payload string
		sinkErr       error
		wantRecord    bool
		wantErr       bool
	}{
		{"deep payload", `{"activationId":"` + id + `","start":5,"request":{"Trigger":{"namespace":"ns","name":"t"},"Subject":"ns","Payload":[{"key":"v","value":` + deep + `}]}}`, nil, true, false},
		{"cut short", `{"activationId":"` + id + `","start":5,"request":{"Trigger":{"namespace":"ns","name":"t"},"Subject":"ns","Payload":[`, nil, true, false},
		{"store down", `{"request":{"Trigger":{"namespace":"ns","name":"t"},"Subject":"ns","Payload":` + deep + `}}`, errors.New("store down"), false, true},
		{"no trigger", `{"request":` + deep + `}`, nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &Firer{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			sink := &recordingSink{err: tt.sinkErr}
			err := f.HandleQueued(t.Context(), message.NewMessage(id, []byte(tt.payload)), sink)
			if (err != nil) != tt.wantErr {
				t.Fatalf("HandleQueued error = %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantRecord {
				if len(sink.acts) != 0 {
					t.Fatalf("recorded %+v", sink.acts[0])
				}
				return
			}
			if len(sink.acts) != 1 {
				t.Fatalf("recorded %d activations, want 1", len(sink.acts))
			}
			a := sink.acts[0]
			if a.ActivationID != id || a.Namespace != "ns" || a.Name != "t" || a.Start != 5 || a.Response.StatusCode != entity.StatusWhiskError {
				t.Fatalf("record = %+v", a)
			}
		})
	}
}

// TestReclaimedInvocationThatDoesNotDecodeIsResent: the watcher resends a
// reclaimed invocation it cannot decode (to the invoker its action goes
// to, when that can be read) instead of dropping it, so that the invoker
// records it.
func TestReclaimedInvocationThatDoesNotDecodeIsResent(t *testing.T) {
	pub := &recordingPublisher{}
	b := NewBalancer()
	b.Observe(Health{Invoker: "i1", UserMemoryMB: 1024}, time.Now())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w := &Watcher{ctrl: NewController("c", pub, b, nil, log), log: log}
	id := entity.NewActivationID()
	payload := `{"activationId":"` + id + `","action":{"namespace":"ns","name":"a"},"subject":"ns","params":{"v":` + strings.Repeat("[", 10_001) + strings.Repeat("]", 10_001) + `}}`
	if err := w.resend(message.NewMessage(id, []byte(payload))); err != nil {
		t.Fatal(err)
	}
	if len(pub.sent) != 1 || pub.topics[0] != bus.InvokerTopic("i1") || pub.sent[0].UUID != id || string(pub.sent[0].Payload) != payload {
		t.Fatalf("resent %d messages (topics %q), want the one as it was to i1", len(pub.sent), pub.topics)
	}
}

// recordingPublisher keeps what is published.
type recordingPublisher struct {
	topics []string
	sent   []*message.Message
}

func (p *recordingPublisher) Publish(topic string, msgs ...*message.Message) error {
	for _, m := range msgs {
		p.topics = append(p.topics, topic)
		p.sent = append(p.sent, m)
	}
	return nil
}

func (p *recordingPublisher) Close() error { return nil }
