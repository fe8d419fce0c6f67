package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/internal/testenv"
	"github.com/wispio/wisp/routing"
)

// traced runs the server with an in-memory span exporter.
func traced(exp *tracetest.InMemoryExporter) func(*Config) {
	return func(cfg *Config) {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
		cfg.Tracer = tp
		cfg.MQTT = "127.0.0.1:0"
	}
}

// traceIDOf is the traceId annotation of act.
func traceIDOf(t *testing.T, act entity.Activation) string {
	t.Helper()
	raw, ok := act.Annotations.Get(routing.TraceAnnotation)
	if !ok {
		t.Fatalf("activation %s has no %s annotation: %v", act.ActivationID, routing.TraceAnnotation, act.Annotations)
	}
	var id string
	if err := json.Unmarshal(raw, &id); err != nil || len(id) != 32 {
		t.Fatalf("traceId annotation %s is not a trace id", raw)
	}
	return id
}

// ancestry is the chain of span names from the first span named leaf in
// trace up to its root, or up to a remote parent not among the spans (the
// caller's); nil when there is no such span.
func ancestry(exp *tracetest.InMemoryExporter, trace, leaf string) []string {
	byID := map[string]tracetest.SpanStub{}
	var start *tracetest.SpanStub
	for _, s := range exp.GetSpans() {
		if s.SpanContext.TraceID().String() != trace {
			continue
		}
		byID[s.SpanContext.SpanID().String()] = s
		if s.Name == leaf && start == nil {
			start = &s
		}
	}
	if start == nil {
		return nil
	}
	chain := []string{start.Name}
	for s := *start; s.Parent.IsValid(); {
		p, ok := byID[s.Parent.SpanID().String()]
		if !ok && s.Parent.IsRemote() {
			break // the caller's span, or one not exported yet
		}
		if !ok {
			return nil
		}
		chain = append(chain, p.Name)
		s = p
	}
	return chain
}

// waitChain waits until the span chain from leaf to the root of trace is
// want, and fails with what it last saw.
func waitChain(t *testing.T, exp *tracetest.InMemoryExporter, trace, leaf string, want []string) {
	t.Helper()
	var got []string
	ok := false
	defer func() {
		if !ok {
			t.Logf("span chain from %q:\n got  %v\n want %v", leaf, got, want)
		}
	}()
	waitFor(t, "the span chain from "+leaf, func() bool {
		got = ancestry(exp, trace, leaf)
		return slices.Equal(got, want)
	})
	ok = true
}

// invokeChain is the chain of a container's /run up to the activation.
var invokeChain = []string{"container /run", "invoker.Run", "invoker.consume", "routing.Invoke", "routing.Activate"}

// TestTraceMQTTMessageToAction follows one MQTT message on the embedded
// broker through the feed (delivery, outbox fire), the trigger fire, the
// rule, the bus hop to the invoker and the container's /init and /run:
// one trace, whose id the action's and the trigger's records carry.
func TestTraceMQTTMessageToAction(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	srv, a := startTriggerServer(t, traced(exp))
	broker := "tcp://" + srv.MQTTAddr()
	a.action("onmessage", 1)
	a.must(200, "PUT", "_/triggers/messages", map[string]any{"annotations": []map[string]any{{"key": "feed", "value": "/whisk.system/mqtt/messages"}}})
	a.rule("R", "messages", "onmessage")
	topic := fmt.Sprintf("wisp-trace/%d", time.Now().UnixNano())
	if status, res := a.feedCall("mqtt/messages", "CREATE", "messages", map[string]any{"url": broker, "topic": topic, "qos": 1}); status != 200 || res["ok"] != true {
		t.Fatalf("CREATE = %d %v", status, res)
	}
	a.must(200, "POST", "whisk.system/actions/mqtt/publish?blocking=true", map[string]any{"url": broker, "topic": topic, "message": map[string]any{"n": 1}, "qos": 1})
	var act entity.Activation
	waitFor(t, "the message to run onmessage", func() bool {
		acts := a.activationsOf("onmessage")
		if len(acts) == 0 {
			return false
		}
		act = acts[0]
		return true
	})
	trace := traceIDOf(t, act)
	// In one process a feed's fire runs its rules at once (FireNow): no
	// triggers queue between the fire and the rule.
	feedChain := []string{"routing.rule", "routing.Fire", "feeds.fire", "feeds.deliver"}
	want := append(slices.Clone(invokeChain), feedChain...)
	waitChain(t, exp, trace, "container /run", want)
	waitChain(t, exp, trace, "container /init", append([]string{"container /init"}, want[1:]...))
	triggers := a.activationsOf("messages")
	if len(triggers) != 1 || traceIDOf(t, triggers[0]) != trace {
		t.Fatalf("trigger activations %v: want one in trace %s", triggers, trace)
	}
}

// TestTraceAPIInvoke follows a blocking API invoke from the HTTP request
// to the container and back, under the caller's own traceparent, and
// checks that the record carries the caller's trace id.
func TestTraceAPIInvoke(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	_, a := startTriggerServer(t, traced(exp))
	a.action("hello", 1)
	const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, err := http.NewRequest("POST", a.base+"_/actions/hello?blocking=true", strings.NewReader(`{"x":1}`))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(a.auth.UUID, a.auth.Key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("traceparent", "00-"+callerTrace+"-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var act entity.Activation
	if err := json.NewDecoder(resp.Body).Decode(&act); err != nil || resp.StatusCode != 200 {
		t.Fatalf("invoke = %d, %v", resp.StatusCode, err)
	}
	if got := traceIDOf(t, act); got != callerTrace {
		t.Fatalf("traceId = %s, want the caller's %s", got, callerTrace)
	}
	waitChain(t, exp, callerTrace, "container /run", append(slices.Clone(invokeChain), "api POST actions"))
}

// TestTraceFireOnNATS follows an API fire through the shared triggers queue
// and the invoker's queue on NATS JetStream, the cluster's bus: the trace
// context travels in the messages' headers.
func TestTraceFireOnNATS(t *testing.T) {
	natsURL := testenv.NATS(t)
	exp := tracetest.NewInMemoryExporter()
	srv, a := startTriggerServer(t, func(c *Config) {
		c.Tracer = sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
		c.Cluster.BusURL = natsURL
		c.Cluster.BusPrefix = fmt.Sprintf("trace%d", time.Now().UnixNano())
		c.Cluster.ID = "n1"
	})
	waitFor(t, "the invoker's first ping", func() bool { return slices.Contains(srv.Invokers(), "n1") })
	a.action("hello", 1)
	a.must(200, "PUT", "_/triggers/T", map[string]any{})
	a.rule("R", "T", "hello")
	acts := a.firedActions(a.fire("T", map[string]any{"q": 1}, http.StatusAccepted))
	if len(acts) != 1 {
		t.Fatalf("%d action activations, want 1", len(acts))
	}
	want := append(slices.Clone(invokeChain), "routing.rule", "routing.HandleQueued", "routing.Fire", "api POST triggers")
	waitChain(t, exp, traceIDOf(t, *acts[0]), "container /run", want)
}
