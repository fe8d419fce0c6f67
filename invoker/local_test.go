package invoker

import (
	"io"
	"log/slog"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/wispio/wisp/bus"
	"github.com/wispio/wisp/entity"
)

// topicRecorder records the topics published to.
type topicRecorder struct{ topics []string }

func (r *topicRecorder) Publish(topic string, _ ...*message.Message) error {
	r.topics = append(r.topics, topic)
	return nil
}

func (*topicRecorder) Close() error { return nil }

// TestCompletionToLocalController checks that the completion for the
// controller of this process is a call with the record itself (no copy, no
// bus message) and that every other controller's still goes over the bus.
func TestCompletionToLocalController(t *testing.T) {
	tests := []struct {
		name       string
		controller string
		wantLocal  bool
	}{
		{"ThisProcess", "controller0", true},
		{"Another", "controller-node2", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &topicRecorder{}
			inv := &Invoker{pub: pub, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			var got []*entity.Activation
			inv.SetLocalController("controller0", func(a *entity.Activation) { got = append(got, a) })
			act := &entity.Activation{ActivationID: entity.NewActivationID()}
			inv.complete(tt.controller, act)
			if tt.wantLocal {
				if len(got) != 1 || got[0] != act || len(pub.topics) != 0 {
					t.Fatalf("local controller got %v, bus got %v: want the record itself and no message", got, pub.topics)
				}
				return
			}
			if len(got) != 0 || len(pub.topics) != 1 || pub.topics[0] != bus.CompletionsTopic(tt.controller) {
				t.Fatalf("local controller got %v, bus got %v: want one message on %s", got, pub.topics, bus.CompletionsTopic(tt.controller))
			}
		})
	}
}
