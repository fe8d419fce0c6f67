package feeds

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/wispio/wisp/tracing"
)

// span starts a span of e's feed under ctx; without a tracer it returns
// ctx and a span that records nothing.
func (e *entry) span(ctx context.Context, name string, kind trace.SpanKind) (context.Context, trace.Span) {
	t := tracing.Tracer(e.m.cfg.Tracer)
	if t == nil {
		return ctx, trace.SpanFromContext(context.Background())
	}
	return t.Start(ctx, name, trace.WithSpanKind(kind), trace.WithAttributes(attribute.String("wisp.trigger", e.fqn.String())))
}

// traceOf is the trace context of ctx to keep with an outbox event, nil
// when ctx has none.
func traceOf(ctx context.Context) map[string]string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return nil
	}
	md := map[string]string{}
	tracing.Inject(ctx, md)
	return md
}
