package invoker

import (
	"context"
	"strings"

	"github.com/ThreeDotsLabs/watermill/message"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/routing"
	"github.com/wispio/wisp/tracing"
)

// SetTracerProvider has the invoker record spans with tp: the consumed
// invocation (a child of the controller's span carried in the message
// metadata), Run, and the container's /init and /run. Call it before
// Consume. Without it the invoker records none.
func (inv *Invoker) SetTracerProvider(tp trace.TracerProvider) {
	inv.tracer = tracing.Tracer(tp)
	inv.client.tracer = inv.tracer
}

// span starts the span of a post to a container, named by its path
// (/init, /run); without a tracer it returns ctx and a span that records
// nothing.
func (c *containerClient) span(ctx context.Context, url string) (context.Context, trace.Span) {
	if c.tracer == nil {
		return ctx, trace.SpanFromContext(context.Background())
	}
	return c.tracer.Start(ctx, "container "+url[strings.LastIndexByte(url, '/'):], trace.WithSpanKind(trace.SpanKindClient))
}

// consumeSpan starts the span of one consumed invocation message.
func (inv *Invoker) consumeSpan(msg *message.Message) (context.Context, trace.Span) {
	ctx := context.Background()
	if inv.tracer == nil {
		return ctx, trace.SpanFromContext(ctx)
	}
	return inv.tracer.Start(tracing.Extract(ctx, msg.Metadata), "invoker.consume", trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(attribute.String("wisp.activation_id", msg.UUID), attribute.String("wisp.invoker", inv.cfg.ID)))
}

// traced ends span, marking it failed when act did not succeed, and
// annotates act with the trace id of ctx.
func traced(ctx context.Context, span trace.Span, act *entity.Activation) {
	if id := tracing.TraceID(ctx); id != "" {
		act.Annotations = act.Annotations.Set(routing.TraceAnnotation, id)
	}
	if act.StatusCode != entity.StatusSuccess {
		span.SetStatus(codes.Error, act.Response.Status)
	}
	span.SetAttributes(attribute.Int("wisp.status_code", act.StatusCode))
	span.End()
}

// runSpan starts the span of Run.
func (inv *Invoker) runSpan(ctx context.Context, m *routing.Invocation) (context.Context, trace.Span) {
	if inv.tracer == nil {
		return ctx, trace.SpanFromContext(context.Background())
	}
	return inv.tracer.Start(ctx, "invoker.Run", trace.WithAttributes(
		attribute.String("wisp.activation_id", m.ActivationID),
		attribute.String("wisp.action", m.Action.String()),
		attribute.String("wisp.namespace", m.Subject),
	))
}
