package routing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"github.com/wispio/wisp/bus"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/throttle"
)

// startBus runs a router with the controller's completion handler and an
// echo invoker that completes every invocation it receives unless its
// activation id is in hold.
func startBus(t *testing.T, hold map[string]bool) (*Controller, <-chan *Invocation) {
	return startThrottledBus(t, hold, nil)
}

// startThrottledBus is startBus with a controller counting activations in
// flight on th.
func startThrottledBus(t *testing.T, hold map[string]bool, th *throttle.Throttle) (*Controller, <-chan *Invocation) {
	t.Helper()
	ch := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 16}, watermill.NopLogger{})
	r, err := message.NewRouter(message.RouterConfig{}, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	ctrl := NewController("c1", ch, NewBalancer("i1"), th, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctrl.HandleCompletions(r, ch)
	seen := make(chan *Invocation, 16)
	r.AddConsumerHandler("echo-invoker", bus.InvokerTopic("i1"), ch, func(msg *message.Message) error {
		var inv Invocation
		if err := json.Unmarshal(msg.Payload, &inv); err != nil {
			return err
		}
		if msg.UUID != inv.ActivationID {
			t.Errorf("message UUID %s is not the activation id %s", msg.UUID, inv.ActivationID)
		}
		seen <- &inv
		if inv.ReplyTo == "" || hold[inv.ActivationID] {
			return nil
		}
		act := &entity.Activation{ActivationID: inv.ActivationID, Response: entity.NewResponse(0, inv.Params)}
		b, _ := json.Marshal(Completion{Activation: act})
		return ch.Publish(bus.CompletionsTopic(inv.ReplyTo), message.NewMessage(inv.ActivationID, b))
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _ = r.Run(ctx) }()
	<-r.Running()
	t.Cleanup(func() { cancel(); _ = r.Close() })
	return ctrl, seen
}

func TestControllerBlockingInvoke(t *testing.T) {
	ctrl, seen := startBus(t, nil)
	inv := &Invocation{ActivationID: entity.NewActivationID(), Action: entity.FQN{Namespace: "ns", Name: "a"}, Params: json.RawMessage(`{"x":1}`)}
	act, err := ctrl.Invoke(context.Background(), inv, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if act.ActivationID != inv.ActivationID || string(act.Response.Result) != `{"x":1}` {
		t.Fatalf("activation = %+v", act)
	}
	if got := <-seen; got.ReplyTo != "c1" {
		t.Fatalf("replyTo = %q", got.ReplyTo)
	}
}

func TestControllerNonBlockingInvoke(t *testing.T) {
	ctrl, seen := startBus(t, nil)
	inv := &Invocation{ActivationID: entity.NewActivationID(), Action: entity.FQN{Namespace: "ns", Name: "a"}}
	act, err := ctrl.Invoke(context.Background(), inv, 0)
	if err != nil || act != nil {
		t.Fatalf("Invoke = %v, %v", act, err)
	}
	// The controller still learns of the completion: it counts the
	// activation against its invoker until then.
	if got := <-seen; got.ReplyTo != "c1" {
		t.Fatalf("non-blocking invocation asks no reply: %+v", got)
	}
	waitNoPending(ctrl)
}

// waitNoPending waits until the controller has handled every completion
// (on the router's goroutine) and awaits none.
func waitNoPending(ctrl *Controller) {
	for {
		ctrl.mu.Lock()
		n := len(ctrl.pending)
		ctrl.mu.Unlock()
		if n == 0 {
			return
		}
		runtime.Gosched()
	}
}

func TestControllerBlockingTimesOut(t *testing.T) {
	id := entity.NewActivationID()
	ctrl, _ := startBus(t, map[string]bool{id: true})
	_, err := ctrl.Invoke(context.Background(), &Invocation{ActivationID: id, Action: entity.FQN{Namespace: "ns", Name: "a"}}, 10*time.Millisecond)
	if !errors.Is(err, ErrStillRunning) {
		t.Fatalf("err = %v, want ErrStillRunning", err)
	}
	ctrl.mu.Lock()
	p, ok := ctrl.pending[id]
	ctrl.mu.Unlock()
	if !ok || p.ch != nil {
		t.Fatalf("pending = %+v, %v: want the activation counted with no waiter", p, ok)
	}
}

// TestControllerCountsInFlight checks that with a throttle every published
// activation is in flight until its completion arrives, whether the caller
// waits, does not wait, or gives up waiting.
func TestControllerCountsInFlight(t *testing.T) {
	tests := []struct {
		name string
		wait time.Duration
		hold bool
	}{
		{"Blocking", time.Minute, false},
		{"NonBlocking", 0, false},
		{"NonBlockingHeld", 0, true},
		{"BlockingTimesOut", 10 * time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := entity.NewActivationID()
			th := throttle.New(throttle.Config{}, nil, nil)
			ctrl, seen := startThrottledBus(t, map[string]bool{id: tt.hold}, th)
			_, err := ctrl.Invoke(t.Context(), &Invocation{ActivationID: id, Subject: "alice", Action: entity.FQN{Namespace: "ns", Name: "a"}}, tt.wait)
			if err != nil && !errors.Is(err, ErrStillRunning) {
				t.Fatal(err)
			}
			if got := <-seen; got.ReplyTo != "c1" {
				t.Fatalf("replyTo = %q: the invoker would not report the completion", got.ReplyTo)
			}
			if tt.hold {
				if n := th.InFlight("alice"); n != 1 {
					t.Fatalf("held activation: %d in flight, want 1", n)
				}
				act := &entity.Activation{ActivationID: id, Namespace: "alice"}
				b, _ := json.Marshal(Completion{Activation: act})
				if err := ctrl.onCompletion(message.NewMessage(id, b)); err != nil {
					t.Fatal(err)
				}
				// A redelivered completion must not count twice.
				if err := ctrl.onCompletion(message.NewMessage(id, b)); err != nil {
					t.Fatal(err)
				}
			}
			waitNoPending(ctrl)
			if n := th.InFlight("alice"); n != 0 {
				t.Fatalf("%d in flight after the completion, want 0", n)
			}
		})
	}
}

func TestControllerNoInvoker(t *testing.T) {
	ctrl := NewController("c", gochannel.NewGoChannel(gochannel.Config{}, watermill.NopLogger{}), NewBalancer(), nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	_, err := ctrl.Invoke(context.Background(), &Invocation{ActivationID: "x"}, time.Second)
	if !errors.Is(err, ErrNoInvoker) {
		t.Fatalf("err = %v", err)
	}
}

func TestBalancerHomeInvoker(t *testing.T) {
	b := NewBalancer("i0", "i1", "i2")
	a := entity.FQN{Namespace: "ns", Name: "a"}
	first, ok := b.Choose(a, 0)
	if !ok {
		t.Fatal("no invoker")
	}
	for range 10 {
		if got, _ := b.Choose(a, 0); got != first {
			t.Fatal("home invoker is not stable")
		}
	}
	spread := map[string]bool{}
	for _, n := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
		id, _ := b.Choose(entity.FQN{Namespace: "ns", Name: n}, 0)
		spread[id] = true
	}
	if len(spread) < 2 {
		t.Fatal("all actions landed on one invoker")
	}
}

// recorder is a publisher that keeps what it is given and delivers nothing.
type recorder struct{ msgs []*message.Message }

func (r *recorder) Publish(_ string, msgs ...*message.Message) error {
	r.msgs = append(r.msgs, msgs...)
	return nil
}
func (r *recorder) Close() error { return nil }

// TestControllerMarksVolatile: a blocking call's invocation is published
// volatile (the embedded bus skips its fsync); once the caller stops
// waiting and is told 202 it is published again unmarked, to be kept; a
// non-blocking one is kept from the start.
func TestControllerMarksVolatile(t *testing.T) {
	for _, tt := range []struct {
		name string
		wait time.Duration
		want []bool // volatile, per publish
	}{
		{"non-blocking", 0, []bool{false}},
		{"blocking that outlives its wait", 10 * time.Millisecond, []bool{true, false}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pub := &recorder{}
			ctrl := NewController("c1", pub, NewBalancer("i1"), nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
			id := entity.NewActivationID()
			_, err := ctrl.Invoke(context.Background(), &Invocation{ActivationID: id, Action: entity.FQN{Namespace: "ns", Name: "a"}}, tt.wait)
			if tt.wait > 0 && !errors.Is(err, ErrStillRunning) || tt.wait == 0 && err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			var got []bool
			for _, m := range pub.msgs {
				if m.UUID != id {
					t.Errorf("published %s, want %s", m.UUID, id)
				}
				got = append(got, m.Metadata.Get(bus.VolatileHeader) != "")
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("volatile per publish = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestControllerComplete checks that a completion handed over by a call
// (an invoker in this process) answers the blocking caller with that very
// record and uncounts the activation, as one from the bus does.
func TestControllerComplete(t *testing.T) {
	th := throttle.New(throttle.Config{}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctrl := NewController("c1", &recorder{}, NewBalancer("i1"), th, slog.New(slog.NewTextHandler(io.Discard, nil)))
	id := entity.NewActivationID()
	want := &entity.Activation{ActivationID: id}
	done := make(chan struct{})
	var got *entity.Activation
	var err error
	go func() {
		defer close(done)
		got, err = ctrl.Invoke(context.Background(), &Invocation{ActivationID: id, Subject: "ns", Action: entity.FQN{Namespace: "ns", Name: "a"}}, time.Minute)
	}()
	for {
		ctrl.mu.Lock()
		_, published := ctrl.pending[id]
		ctrl.mu.Unlock()
		if published {
			break
		}
		runtime.Gosched()
	}
	ctrl.Complete(want)
	<-done
	if err != nil || got != want {
		t.Fatalf("Invoke = %p, %v; want the completed record %p", got, err, want)
	}
	waitNoPending(ctrl)
	ctrl.Complete(want) // a second completion of it finds no caller and changes nothing
	waitNoPending(ctrl)
}
