package providers

import (
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.36.0"
	"go.opentelemetry.io/otel/trace"
)

// AttrTimeToFirstByte is the attribute of an upstream call's span that holds the time from
// sending the request to the upstream's response headers, in milliseconds.
const AttrTimeToFirstByte = attribute.Key("ai_gateway.upstream.time_to_first_byte_ms")

// upstreamSpan is the recorded span of one upstream request (the gateway's attempt span), or
// nothing: its zero value notes nothing.
type upstreamSpan struct {
	span trace.Span
	sent time.Time
}

// traceRequest writes req's trace context into its headers (traceparent, tracestate) and, when
// req's context holds a recorded span, notes where the request goes on it.
func traceRequest(p propagation.TextMapPropagator, req *http.Request) upstreamSpan {
	ctx := req.Context()
	p.Inject(ctx, propagation.HeaderCarrier(req.Header))
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return upstreamSpan{}
	}
	host, port := req.URL.Hostname(), req.URL.Port()
	if port == "" {
		port = "80"
		if req.URL.Scheme == "https" {
			port = "443"
		}
	}
	n, _ := strconv.Atoi(port)
	span.SetAttributes(semconv.ServerAddress(host), semconv.ServerPort(n),
		semconv.HTTPRequestMethodKey.String(req.Method), semconv.URLFull(redactedURL(req)))
	return upstreamSpan{span: span, sent: time.Now()}
}

// answered notes the upstream's status and its time to first byte; resp is nil when the
// request failed before any answer.
func (u upstreamSpan) answered(resp *http.Response) {
	if u.span == nil || resp == nil {
		return
	}
	u.span.SetAttributes(semconv.HTTPResponseStatusCode(resp.StatusCode),
		AttrTimeToFirstByte.Float64(float64(time.Since(u.sent))/float64(time.Millisecond)))
	u.span.AddEvent("response headers")
}

// redactedURL is req's URL without its query, which some protocols use for keys (Gemini's
// ?key=, never sent by the gateway, but a base URL may carry one), nor user info.
func redactedURL(req *http.Request) string {
	u := *req.URL
	u.RawQuery, u.User, u.Fragment = "", nil, ""
	return u.String()
}
