package routing

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/wispio/wisp/bus"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/store/bolt"
)

// deliveryFirer is a firer on a store holding namespace ns's action act,
// its controller publishing to pub; index holds trigger T with rule R
// (policy p) and the dead-letter trigger DL with rule onDL.
func deliveryFirer(t testing.TB, pub message.Publisher, p *entity.RuleDelivery) *Firer {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "wisp.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := store.PutDoc(t.Context(), st, "ns", store.Actions, "act", "", entity.Action{Namespace: "ns", Name: "act", Exec: entity.Exec{Kind: "nodejs:20", Code: "x"}}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctrl := NewController("c1", pub, NewBalancer("i1"), nil, log)
	index := NewRuleIndex()
	act := entity.RefOf(fqn("ns", "act"))
	index.Put(&entity.Trigger{Namespace: "ns", Name: "T", Rules: map[string]entity.ReducedRule{"ns/R": {Action: act, Status: entity.StatusActive, Delivery: p}}})
	index.Put(&entity.Trigger{Namespace: "ns", Name: "DL", Rules: map[string]entity.ReducedRule{"ns/onDL": {Action: act, Status: entity.StatusActive}}})
	f := NewFirer(index, NewActivator(st, ctrl), nil, log)
	f.Queue(pub)
	return f
}

// TestAfterAttempt: an attempt's outcome schedules the next attempt (a
// deliveries message not due before the backoff), fires the dead-letter
// trigger after the last (a fire on the triggers queue under the
// dead-letter id), or does nothing when the policy does not count it.
func TestAfterAttempt(t *testing.T) {
	policy := &entity.RuleDelivery{Retry: &entity.RetryPolicy{Attempts: 3, Backoff: entity.BackoffPolicy{Initial: 60_000, Max: 60_000}}, DeadLetter: "/ns/DL"}
	asked := &entity.RuleDelivery{Retry: &entity.RetryPolicy{Attempts: 3, OnApplicationError: true, Backoff: entity.BackoffPolicy{Initial: 60_000, Max: 60_000}}}
	fire := entity.NewActivationID()
	rule := fqn("ns", "R")
	for _, tt := range []struct {
		name    string
		policy  *entity.RuleDelivery
		attempt int
		status  int
		topic   string // of the one message wanted; "" for none
		id      string
	}{
		{"success", policy, 1, entity.StatusSuccess, "", ""},
		{"application error not asked", policy, 1, entity.StatusApplicationError, "", ""},
		{"application error asked", asked, 1, entity.StatusApplicationError, bus.TopicDeliveries, AttemptID(fire, rule, 2) + ".attempt"},
		{"developer error", policy, 1, entity.StatusDeveloperError, bus.TopicDeliveries, AttemptID(fire, rule, 2) + ".attempt"},
		{"whisk error", policy, 2, entity.StatusWhiskError, bus.TopicDeliveries, AttemptID(fire, rule, 3) + ".attempt"},
		{"last attempt", policy, 3, entity.StatusDeveloperError, bus.TopicTriggers, AttemptID(fire, rule, 0)},
		{"last attempt without dead letter", asked, 3, entity.StatusDeveloperError, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pub := &recordingPublisher{}
			f := deliveryFirer(t, pub, tt.policy)
			d := &Delivery{Rule: rule, Trigger: fqn("ns", "T"), Action: fqn("ns", "act"), Subject: "ns", Fire: fire, Attempt: tt.attempt, Policy: *tt.policy, Event: json.RawMessage(`{"n":1}`)}
			id := AttemptID(fire, rule, tt.attempt)
			before := time.Now()
			if err := f.afterAttempt(t.Context(), d, &Outcome{ActivationID: id, StatusCode: tt.status}); err != nil {
				t.Fatal(err)
			}
			if tt.topic == "" {
				if len(pub.sent) != 0 {
					t.Fatalf("published %v", pub.topics)
				}
				return
			}
			if len(pub.sent) != 1 || pub.topics[0] != tt.topic || pub.sent[0].UUID != tt.id {
				t.Fatalf("published %v %d messages, want one %s on %s", pub.topics, len(pub.sent), tt.id, tt.topic)
			}
			if tt.topic != bus.TopicDeliveries {
				return
			}
			if due := bus.NotBefore(pub.sent[0].Metadata); due.Before(before.Add(time.Minute).Truncate(time.Millisecond)) {
				t.Fatalf("next attempt due %v, want a minute after %v", due, before)
			}
			var step deliveryStep
			if err := json.Unmarshal(pub.sent[0].Payload, &step); err != nil {
				t.Fatal(err)
			}
			if step.Outcome != nil || step.Delivery.Attempt != tt.attempt+1 || len(step.Delivery.Failed) != 1 || step.Delivery.Failed[0] != id {
				t.Fatalf("scheduled %+v", step)
			}
		})
	}
}

// discard is a publisher that drops everything.
type discard struct{}

func (discard) Publish(string, ...*message.Message) error { return nil }
func (discard) Close() error                              { return nil }

// BenchmarkFireRun runs one fire of a trigger with ten rules up to the
// published invocations (no bus: the controller's publisher drops them),
// for rules without a delivery policy and with retries and a dead letter:
// the policy adds the Delivery to each invocation, nothing else.
func BenchmarkFireRun(b *testing.B) {
	policy := &entity.RuleDelivery{Retry: &entity.RetryPolicy{Attempts: 3, Backoff: entity.BackoffPolicy{Initial: 100, Max: 1000}}, DeadLetter: "/ns/DL"}
	for _, bc := range []struct {
		name   string
		policy *entity.RuleDelivery
	}{{"plain", nil}, {"retry+deadLetter", policy}} {
		b.Run(bc.name, func(b *testing.B) {
			f := deliveryFirer(b, discard{}, nil)
			rules := map[string]entity.ReducedRule{}
			for i := range 10 {
				rules[fmt.Sprintf("ns/R%d", i)] = entity.ReducedRule{Action: entity.RefOf(fqn("ns", "act")), Status: entity.StatusActive, Delivery: bc.policy}
			}
			f.index.Put(&entity.Trigger{Namespace: "ns", Name: "T", Rules: rules})
			entry, _ := f.index.Lookup(fqn("ns", "T"))
			req := FireRequest{Trigger: fqn("ns", "T"), Subject: "ns", Payload: entity.Params{}.Set("n", 1)}
			ctx := b.Context()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				f.run(ctx, req, entry, entity.NewActivationID(), time.Now())
			}
		})
	}
}
