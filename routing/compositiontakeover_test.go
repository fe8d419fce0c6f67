package routing

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/wispio/wisp/bus"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/store/bolt"
)

// takeoverInvoker is an invoker on the embedded bus that adds 1 to its
// payload's value, stores the record and completes it; the invocation with
// id hold waits for release first.
type takeoverInvoker struct {
	st      store.Store
	pub     message.Publisher
	hold    string
	held    chan struct{} // closed when hold arrives
	release chan struct{}
	wg      sync.WaitGroup // the subscriptions' goroutines

	mu   sync.Mutex // guards runs and replyTo
	runs map[string]int
	// replyTo are the controllers that published the invocations.
	replyTo map[string]bool
}

func (inv *takeoverInvoker) consume(ctx context.Context, t *testing.T, b bus.Bus) {
	sub, err := b.Queue(ctx, bus.InvokerTopic("i1"), "i1", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for range 4 { // a subscription holds one message until its ack
		msgs, err := sub.Subscribe(ctx, bus.InvokerTopic("i1"))
		if err != nil {
			t.Fatal(err)
		}
		inv.wg.Add(1)
		go func() {
			defer inv.wg.Done()
			for msg := range msgs {
				inv.run(ctx, t, msg)
			}
		}()
	}
}

func (inv *takeoverInvoker) run(ctx context.Context, t *testing.T, msg *message.Message) {
	var m Invocation
	if err := json.Unmarshal(msg.Payload, &m); err != nil {
		t.Error(err)
		msg.Ack()
		return
	}
	start := time.Now().UnixMilli()
	inv.mu.Lock()
	inv.runs[m.ActivationID]++
	if inv.replyTo != nil {
		inv.replyTo[m.ReplyTo] = true
	}
	first := inv.runs[m.ActivationID] == 1
	inv.mu.Unlock()
	if m.ActivationID == inv.hold && first {
		close(inv.held)
		<-inv.release
	}
	var p struct{ Value, N int } // a conductor's state comes as parameters

	_ = json.Unmarshal(m.Params, &p)
	result, _ := json.Marshal(map[string]int{"value": p.Value + 1})
	if m.Action.Name == "cond" {
		result = conduct(p.Value, p.N)
	}
	act := &entity.Activation{ActivationID: m.ActivationID, Namespace: m.Subject, Name: m.Action.Name, Subject: m.Subject,
		Cause: m.Cause, Start: start, End: time.Now().UnixMilli(), Duration: 1, Logs: []string{}, Response: entity.NewResponse(entity.StatusSuccess, result)}
	if err := inv.st.PutActivations(context.WithoutCancel(ctx), []*entity.Activation{act}); err != nil {
		t.Error(err)
	}
	b, _ := json.Marshal(Completion{Activation: act})
	if err := inv.pub.Publish(bus.CompletionsTopic(m.ReplyTo), bus.NewMessage(m.ActivationID, b)); err != nil {
		t.Error(err)
	}
	msg.Ack()
}

// conductorRounds is how many components the test's conductor runs.
const conductorRounds = 3

// conduct is the test's conductor action: it runs inc conductorRounds
// times on value, counting in its state, then ends with the value.
func conduct(value, n int) json.RawMessage {
	var out any = map[string]any{"action": "/ns/inc", "params": map[string]int{"value": value}, "state": map[string]int{"n": n + 1}}
	if n == conductorRounds {
		out = map[string]any{"params": map[string]int{"value": value}}
	}
	b, _ := json.Marshal(out)
	return b
}

// takeoverController is one controller of the test: its completions on a
// router, its activator, and its consumer of the compositions queue, which
// stops at the first composition its activator gives up.
type takeoverController struct {
	activator *Activator
	stopped   chan struct{} // closed when the consumer gave a composition up
}

func startTakeoverController(ctx context.Context, t *testing.T, id string, b bus.Bus, st store.Store, consume bool) *takeoverController {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctrl := NewController(id, b, NewBalancer("i1"), nil, log)
	r, err := message.NewRouter(message.RouterConfig{}, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	completions, err := b.Queue(ctx, bus.CompletionsTopic(id), id, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ctrl.HandleCompletions(r, completions)
	go func() { _ = r.Run(ctx) }()
	<-r.Running()
	t.Cleanup(func() { _ = r.Close() })
	a := NewActivator(st, ctrl)
	a.Queue(b)
	tc := &takeoverController{activator: a, stopped: make(chan struct{})}
	if !consume {
		return tc
	}
	consumeCtx, stop := context.WithCancel(ctx)
	sub, err := b.SharedQueue(consumeCtx, bus.TopicCompositions, bus.TopicCompositions, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := sub.Subscribe(consumeCtx, bus.TopicCompositions)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for msg := range msgs {
			if err := a.HandleQueued(ctx, msg, bothSinkOf(st)); err != nil {
				stop() // this controller is gone: no more deliveries to it
				msg.Nack()
				close(tc.stopped)
				return
			}
			msg.Ack()
		}
	}()
	return tc
}

// storeSink writes records to a store.
type storeSink struct{ st store.Store }

func (s storeSink) WriteActivations(ctx context.Context, acts []*entity.Activation) error {
	return s.st.PutActivations(ctx, acts)
}

func bothSinkOf(st store.Store) DurableSink { return storeSink{st} }

// TestCompositionTakenOverGoesOn: a controller stops while a queued
// 10-step sequence (or a conductor of 3 components) holds one derived
// activation; another controller takes the composition from the queue and
// finishes it from where it stopped. Its record lists the derived ids in
// order with the right result; an activation that completed before the
// takeover is not run again, one still running when it happens runs
// again (at least once) under the same id.
func TestCompositionTakenOverGoesOn(t *testing.T) {
	tests := []struct {
		name   string
		action string
		// steps are the derived activations, holdStep the one held;
		// want the result.
		steps, holdStep int
		want            string
		// releaseFirst: the held component completes before the second
		// controller takes over.
		releaseFirst bool
		wantHeldRuns int
	}{
		{"sequence, component completed before the takeover", "seq", 10, 4, `{"value":10}`, true, 1},
		{"sequence, component still running at the takeover", "seq", 10, 4, `{"value":10}`, false, 2},
		// cond, inc, cond, inc (held), cond, inc, cond
		{"conductor, component completed before the takeover", "cond", 2*conductorRounds + 1, 3, `{"value":3}`, true, 1},
		{"conductor, its own activation still running at the takeover", "cond", 2*conductorRounds + 1, 2, `{"value":3}`, false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			steps, holdStep := tt.steps, tt.holdStep
			st, b := takeoverFixture(ctx, t, 10)
			seqID := entity.NewActivationID()
			inv := &takeoverInvoker{st: st, pub: b, hold: DerivedActivationID(seqID, holdStep),
				held: make(chan struct{}), release: make(chan struct{}), runs: map[string]int{}}
			inv.consume(ctx, t, b)

			first := startTakeoverController(ctx, t, "c1", b, st, true)
			req := Request{Action: entity.FQN{Namespace: "ns", Name: tt.action}, Subject: "ns", ActivationID: seqID,
				Payload: entity.Params{{Key: "value", Value: json.RawMessage(`0`)}}}
			if _, _, err := first.activator.Activate(ctx, req); err != nil {
				t.Fatal(err)
			}
			<-inv.held
			stopNow, stopped := context.WithCancel(ctx)
			stopped()
			_ = first.activator.Close(stopNow) // the controller stops mid-composition
			<-first.stopped
			if _, err := st.GetActivation(ctx, "ns", seqID); err == nil {
				t.Fatal("the stopped controller recorded the composition it gave up")
			}
			if tt.releaseFirst {
				close(inv.release)
				waitRecord(ctx, t, st, inv.hold)
			}
			second := startTakeoverController(ctx, t, "c2", b, st, true)
			defer func() { _ = second.activator.Close(ctx) }()
			act := waitRecord(ctx, t, st, seqID)
			if !tt.releaseFirst {
				close(inv.release)
			}
			cancel() // the invoker's subscriptions end
			inv.wg.Wait()

			want := make([]string, steps)
			for i := range want {
				want[i] = DerivedActivationID(seqID, i)
			}
			if !slices.Equal(act.Logs, want) {
				t.Errorf("record logs = %v, want the derived ids %v", act.Logs, want)
			}
			if first, err := st.GetActivation(t.Context(), "ns", want[0]); err != nil || act.Start > first.Start {
				t.Errorf("record starts at %d, after its first component (%+v, %v): it should start with the first run", act.Start, first, err)
			}
			if !act.Response.Success || string(act.Response.Result) != tt.want {
				t.Errorf("record response = %+v %s, want %s", act.Response, act.Response.Result, tt.want)
			}
			inv.mu.Lock()
			defer inv.mu.Unlock()
			for i, id := range want {
				wantRuns := 1
				if i == holdStep {
					wantRuns = tt.wantHeldRuns
				}
				if inv.runs[id] != wantRuns {
					t.Errorf("component %d ran %d times, want %d", i, inv.runs[id], wantRuns)
				}
			}
			if len(inv.runs) != steps {
				t.Errorf("%d activations ran, want %d: %v", len(inv.runs), steps, inv.runs)
			}
		})
	}
}

// waitRecord waits for the record of id in st.
func waitRecord(ctx context.Context, t *testing.T, st store.Store, id string) *entity.Activation {
	t.Helper()
	for {
		act, err := st.GetActivation(ctx, "ns", id)
		if err == nil {
			return act
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no record of %s: %v", id, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// takeoverFixture is a store with the action inc, the sequence seq of
// steps times inc and the conductor action cond in namespace ns, and an
// embedded bus.
func takeoverFixture(ctx context.Context, t *testing.T, steps int) (store.Store, bus.Bus) {
	t.Helper()
	dir := t.TempDir()
	st, err := bolt.Open(filepath.Join(dir, "wisp.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b, err := bus.OpenEmbedded(filepath.Join(dir, "queue.db"), time.Second, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if _, err := store.PutDoc(ctx, st, "ns", store.Actions, "inc", "", entity.Action{Namespace: "ns", Name: "inc", Exec: entity.Exec{Kind: "nodejs:20", Code: "x"}}); err != nil {
		t.Fatal(err)
	}
	components := make([]string, steps)
	for i := range components {
		components[i] = "/ns/inc"
	}
	if _, err := store.PutDoc(ctx, st, "ns", store.Actions, "seq", "", entity.Action{Namespace: "ns", Name: "seq", Exec: entity.Exec{Kind: entity.KindSequence, Components: components}}); err != nil {
		t.Fatal(err)
	}
	cond := entity.Action{Namespace: "ns", Name: "cond", Exec: entity.Exec{Kind: "nodejs:20", Code: "x"},
		Annotations: entity.Params{{Key: "conductor", Value: json.RawMessage(`true`)}}}
	if _, err := store.PutDoc(ctx, st, "ns", store.Actions, "cond", "", cond); err != nil {
		t.Fatal(err)
	}
	return st, b
}

// TestBlockingCompositionThroughTheQueue: with QueueBlocking, a blocking
// sequence accepted by one controller runs on whichever controller takes
// it from the queue (here the other one), and the accepting controller
// answers with the record it is sent.
func TestBlockingCompositionThroughTheQueue(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	st, b := takeoverFixture(ctx, t, 3)
	inv := &takeoverInvoker{st: st, pub: b, runs: map[string]int{}, replyTo: map[string]bool{}}
	inv.consume(ctx, t, b)
	accepting := startTakeoverController(ctx, t, "c1", b, st, false)
	accepting.activator.QueueBlocking()
	running := startTakeoverController(ctx, t, "c2", b, st, true)
	defer func() { _ = running.activator.Close(ctx) }()
	id, act, err := accepting.activator.Activate(ctx, Request{Action: entity.FQN{Namespace: "ns", Name: "seq"}, Subject: "ns",
		Payload: entity.Params{{Key: "value", Value: json.RawMessage(`5`)}}, Wait: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if act == nil || act.ActivationID != id || string(act.Response.Result) != `{"value":8}` || len(act.Logs) != 3 {
		t.Fatalf("answer = %+v, want the record of %s with {\"value\":8} and 3 components", act, id)
	}
	if _, err := st.GetActivation(ctx, "ns", id); err != nil {
		t.Fatalf("no record in the store: %v", err)
	}
	inv.mu.Lock()
	if !maps.Equal(inv.replyTo, map[string]bool{"c2": true}) {
		t.Errorf("components published by %v, want c2 alone (the controller that took the composition)", inv.replyTo)
	}
	inv.mu.Unlock()
	accepting.activator.Controller().mu.Lock()
	defer accepting.activator.Controller().mu.Unlock()
	if n := len(accepting.activator.Controller().pending); n != 0 {
		t.Fatalf("%d waits left pending", n)
	}
	cancel()
	inv.wg.Wait()
}
