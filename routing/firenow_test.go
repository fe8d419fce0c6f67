package routing

import (
	"context"
	"testing"

	"github.com/wispio/wisp/bus"
	"github.com/wispio/wisp/entity"
)

// durableRecorder is a DurableSink that keeps what it was given.
type durableRecorder struct{ acts []*entity.Activation }

func (d *durableRecorder) WriteActivations(_ context.Context, acts []*entity.Activation) error {
	d.acts = append(d.acts, acts...)
	return nil
}

// TestFireNowHoldsUntilKept: FireNow publishes the rule's invocation to
// the invoker at once, volatile, and nothing to the triggers queue; keep
// writes the trigger activation and publishes the invocation again,
// marked kept, under the same id (the rule's id derived from the fire's).
func TestFireNowHoldsUntilKept(t *testing.T) {
	pub := &recordingPublisher{}
	f := deliveryFirer(t, pub, nil)
	sink := &durableRecorder{}
	id := entity.NewActivationID()
	res, keep, err := f.FireNow(t.Context(), FireRequest{Trigger: fqn("ns", "T"), Subject: "ns", Payload: entity.Params{{Key: "n", Value: []byte("1")}}, ActivationID: id}, sink)
	if err != nil {
		t.Fatal(err)
	}
	if keep == nil || res == nil || res.Activation.ActivationID != id {
		t.Fatalf("FireNow = %+v, keep %v", res, keep != nil)
	}
	if len(res.Rules) != 1 || !res.Rules[0].Success {
		t.Fatalf("rules %+v", res.Rules)
	}
	want := RuleActivationID(id, fqn("ns", "R"))
	if len(pub.sent) != 1 || pub.topics[0] != bus.InvokerTopic("i1") || pub.sent[0].UUID != want {
		t.Fatalf("before keep published %v, want one invocation %s", pub.topics, want)
	}
	if pub.sent[0].Metadata.Get(bus.VolatileHeader) == "" || pub.sent[0].Metadata.Get(bus.KeepHeader) != "" {
		t.Errorf("the first publish is not volatile: %v", pub.sent[0].Metadata)
	}
	if len(sink.acts) != 0 {
		t.Errorf("trigger activation written before keep")
	}
	if err := keep(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(sink.acts) != 1 || sink.acts[0].ActivationID != id {
		t.Fatalf("keep wrote %v, want the trigger activation %s", sink.acts, id)
	}
	if len(pub.sent) != 2 || pub.topics[1] != bus.InvokerTopic("i1") || pub.sent[1].UUID != want {
		t.Fatalf("after keep published %v", pub.topics)
	}
	if m := pub.sent[1].Metadata; m.Get(bus.KeepHeader) == "" || m.Get(bus.VolatileHeader) != "" || string(pub.sent[1].Payload) != string(pub.sent[0].Payload) {
		t.Errorf("the keeping publish is not the invocation marked kept: %v", m)
	}
}
