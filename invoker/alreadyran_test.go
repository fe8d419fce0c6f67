package invoker

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"github.com/wispio/wisp/bus"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/routing"
	"github.com/wispio/wisp/store/bolt"
)

// TestRuleActivationRunsOnce: a rule's invocation whose record exists (its
// fire was run again after a crash) is acked and answered with that record,
// and not run: the invoker here has no backend, so a run would fail the
// record. An invocation of another cause is not looked up.
func TestRuleActivationRunsOnce(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "wisp.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	done := &entity.Activation{ActivationID: entity.NewActivationID(), Namespace: "ns", Name: "a", Logs: []string{},
		Response: entity.NewResponse(entity.StatusSuccess, json.RawMessage(`{"ran":"first"}`))}
	if err := st.PutActivations(ctx, []*entity.Activation{done}); err != nil {
		t.Fatal(err)
	}
	pubsub := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 4}, watermill.NopLogger{})
	defer pubsub.Close()
	completions, err := pubsub.Subscribe(t.Context(), bus.CompletionsTopic("c1"))
	if err != nil {
		t.Fatal(err)
	}
	sink := &recordingSink{}
	inv := New(Config{ID: "i0"}, nil, st, sink, pubsub, slog.New(slog.NewTextHandler(io.Discard, nil)))
	payload, _ := json.Marshal(routing.Invocation{
		ActivationID: done.ActivationID, Action: entity.FQN{Namespace: "ns", Name: "a"}, Subject: "ns",
		Cause: entity.NewActivationID(), ReplyTo: "c1",
	})
	msg := message.NewMessage(done.ActivationID, payload)
	inv.consume(msg)
	select {
	case <-msg.Acked():
	default:
		t.Fatal("the message was not acked")
	}
	if len(sink.acts) != 0 {
		t.Fatalf("recorded %+v: the activation ran again", sink.acts[0])
	}
	c := <-completions
	var comp routing.Completion
	if err := json.Unmarshal(c.Payload, &comp); err != nil || string(comp.Activation.Response.Result) != `{"ran":"first"}` {
		t.Fatalf("completion %s (%v), want the first run's record", c.Payload, err)
	}

	// Not a rule's activation (no cause): looked up never, so run.
	if got := inv.alreadyRan(ctx, &routing.Invocation{ActivationID: done.ActivationID, Subject: "ns"}); got != nil {
		t.Fatal("an invocation without a cause was looked up")
	}
	// A sequence component (causedBy sequence): run.
	if got := inv.alreadyRan(ctx, &routing.Invocation{ActivationID: done.ActivationID, Subject: "ns", Cause: "x", CausedBy: "sequence"}); got != nil {
		t.Fatal("a sequence component was looked up")
	}
}
