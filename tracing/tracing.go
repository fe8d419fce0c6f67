package tracing

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Name is the instrumentation scope of Wisp's spans.
const Name = "github.com/wispio/wisp"

// Provider is the process's TracerProvider and what shuts it down.
type Provider struct {
	trace.TracerProvider
	shutdown func(context.Context) error
}

// New returns the provider the environment asks for (getenv is os.Getenv
// outside tests): OTLP over HTTP when OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set (the exporter reads the other
// OTEL_EXPORTER_OTLP_* variables itself), a no-op provider otherwise.
// service names the process in its resource (service.name).
func New(ctx context.Context, getenv func(string) string, service string) (*Provider, error) {
	if getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return &Provider{TracerProvider: noop.NewTracerProvider(), shutdown: func(context.Context) error { return nil }}, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	res := resource.NewSchemaless(attribute.String("service.name", service))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return &Provider{TracerProvider: tp, shutdown: tp.Shutdown}, nil
}

// Shutdown flushes the spans still buffered and stops the exporter.
func (p *Provider) Shutdown(ctx context.Context) error {
	if err := p.shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: shutdown: %w", err)
	}
	return nil
}

// Enabled reports whether tp records spans: it is neither nil nor otel's
// no-op provider (what New returns without an endpoint).
func Enabled(tp trace.TracerProvider) bool {
	if tp == nil {
		return false
	}
	_, off := tp.(noop.TracerProvider)
	return !off
}

// Tracer is Wisp's tracer from tp, or nil when tp is not Enabled: callers
// then skip their spans altogether, which is what keeps tracing off free.
func Tracer(tp trace.TracerProvider) trace.Tracer {
	if !Enabled(tp) {
		return nil
	}
	return tp.Tracer(Name)
}

// Propagator is the W3C trace-context propagator (traceparent,
// tracestate) used on bus messages, outbox events and HTTP.
func Propagator() propagation.TextMapPropagator { return propagation.TraceContext{} }

// Inject writes ctx's span context into md (a bus message's metadata);
// nothing is written when ctx carries no valid span.
func Inject(ctx context.Context, md map[string]string) {
	if md == nil || !trace.SpanContextFromContext(ctx).IsValid() {
		return
	}
	propagation.TraceContext{}.Inject(ctx, propagation.MapCarrier(md))
}

// Extract returns ctx with the remote span context found in md, if any.
func Extract(ctx context.Context, md map[string]string) context.Context {
	if md["traceparent"] == "" {
		return ctx
	}
	return propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier(md))
}

// TraceID is the trace id of ctx's span in hex, or "" when there is none.
func TraceID(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.TraceID().IsValid() {
		return ""
	}
	return sc.TraceID().String()
}
