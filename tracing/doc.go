// Package tracing sets up OpenTelemetry traces for Wisp and carries trace
// context across the bus. New makes a TracerProvider from the environment:
// an OTLP/HTTP exporter when OTEL_EXPORTER_OTLP_ENDPOINT (or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, otherwise otel's no-op
// provider, which costs next to nothing. Inject and Extract put a W3C
// traceparent into a bus message's metadata and take it out again, so that
// one trace crosses the embedded bus and NATS alike. The provider is passed
// to the roles explicitly; nothing here sets otel's globals.
package tracing
