package tracing

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace/noop"
)

func TestNewFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		enabled bool
	}{
		{"no endpoint: off", nil, false},
		{"endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, true},
		{"traces endpoint", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(t.Context(), func(k string) string { return tc.env[k] }, "wisp-test")
			if err != nil {
				t.Fatal(err)
			}
			if got := Enabled(p.TracerProvider); got != tc.enabled {
				t.Fatalf("Enabled = %v, want %v", got, tc.enabled)
			}
			if got := Tracer(p.TracerProvider) != nil; got != tc.enabled {
				t.Fatalf("Tracer returned a tracer = %v, want %v", got, tc.enabled)
			}
			if err := p.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
	if Enabled(nil) || Enabled(noop.NewTracerProvider()) {
		t.Fatal("nil and no-op providers must not count as enabled")
	}
}

// TestInjectExtract carries a span's context through message metadata.
func TestInjectExtract(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	ctx, span := Tracer(tp).Start(context.Background(), "publish")
	md := map[string]string{"other": "kept"}
	Inject(ctx, md)
	span.End()
	if md["traceparent"] == "" || md["other"] != "kept" {
		t.Fatalf("metadata after Inject: %v", md)
	}
	got := Extract(context.Background(), md)
	if TraceID(got) != span.SpanContext().TraceID().String() {
		t.Fatalf("extracted trace %q, want %s", TraceID(got), span.SpanContext().TraceID())
	}
	empty := map[string]string{}
	Inject(context.Background(), empty)
	if len(empty) != 0 || TraceID(Extract(context.Background(), empty)) != "" {
		t.Fatalf("no span: metadata %v, want none", empty)
	}
}
