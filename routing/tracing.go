package routing

import (
	"context"

	"github.com/ThreeDotsLabs/watermill/message"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/tracing"
)

// SetTracerProvider has the controller, and the activator and firer over
// it, record spans with tp (Activate, Invoke, Fire, a rule, HandleQueued)
// and carry the trace context in the messages they publish. Without it
// they record none but still forward a context they are given.
func (c *Controller) SetTracerProvider(tp trace.TracerProvider) { c.tracer = tracing.Tracer(tp) }

// startSpan starts a span named name under ctx; without a tracer it
// returns ctx and a span that records nothing; c may be nil (callers set attributes
// only when span.IsRecording(), so that tracing off costs nothing).
func (c *Controller) startSpan(ctx context.Context, name string, kind trace.SpanKind) (context.Context, trace.Span) {
	if c == nil || c.tracer == nil {
		return ctx, trace.SpanFromContext(context.Background())
	}
	return c.tracer.Start(ctx, name, trace.WithSpanKind(kind))
}

// consumeSpan starts the span of handling msg, a child of the span its
// publisher injected into it.
func (c *Controller) consumeSpan(ctx context.Context, msg *message.Message, name string) (context.Context, trace.Span) {
	if c == nil || c.tracer == nil {
		return c.startSpan(ctx, name, trace.SpanKindConsumer)
	}
	return c.startSpan(tracing.Extract(ctx, msg.Metadata), name, trace.SpanKindConsumer)
}

// controller is the controller whose tracer f uses; nil for a firer made
// without an activator (tests), which records no spans.
func (f *Firer) controller() *Controller {
	if f.activator == nil {
		return nil
	}
	return f.activator.ctrl
}

// Span attribute keys of Wisp's spans.
const (
	attrActivationID = attribute.Key("wisp.activation_id")
	attrAction       = attribute.Key("wisp.action")
	attrTrigger      = attribute.Key("wisp.trigger")
	attrRule         = attribute.Key("wisp.rule")
	attrNamespace    = attribute.Key("wisp.namespace")
)

// TraceAnnotation is the annotation of an activation record that holds the
// id of the trace it ran in, when it ran in one; OpenWhisk clients see one
// more annotation.
const TraceAnnotation = "traceId"

// annotateTrace annotates act with the trace id of ctx, if any.
func annotateTrace(ctx context.Context, act *entity.Activation) {
	if id := tracing.TraceID(ctx); id != "" {
		act.Annotations = act.Annotations.Set(TraceAnnotation, id)
	}
}
