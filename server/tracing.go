package server

import (
	"net/http"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/wispio/wisp/tracing"
)

// traceHTTP wraps h so that each request is the root span of its trace (or
// a child of the caller's traceparent); h itself when tracing is off.
func (s *Server) traceHTTP(h http.Handler, operation string) http.Handler {
	if !tracing.Enabled(s.cfg.Tracer) {
		return h
	}
	return otelhttp.NewHandler(h, operation,
		otelhttp.WithTracerProvider(s.cfg.Tracer),
		otelhttp.WithPropagators(tracing.Propagator()),
		otelhttp.WithSpanNameFormatter(func(op string, r *http.Request) string { return op + " " + r.Method + " " + resource(r.URL.Path) }))
}

// resource is the kind of entity a request path names, a bounded span name
// part: /api/v1/namespaces/ns/actions/x is "actions", /hooks/github/id is
// "github" (the provider).
func resource(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) >= 5 && parts[2] == "namespaces" {
		return parts[4]
	}
	if len(parts) >= 2 && parts[0] == "hooks" {
		return parts[1]
	}
	if len(parts) > 0 {
		return parts[0]
	}
	return ""
}
