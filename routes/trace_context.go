package routes

import (
	"context"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
	"go.opentelemetry.io/otel/propagation"
)

// callerTrace returns ctx with the trace context the caller sent (traceparent, tracestate), for
// the gateway's request span to continue the caller's trace. With tracing off it is ctx.
func (s *server) callerTrace(c *fiber.Ctx, ctx context.Context) context.Context {
	if s.Propagator == nil {
		return ctx
	}
	return s.Propagator.Extract(ctx, requestHeaders{&c.Request().Header})
}

// requestHeaders reads a request's headers for a propagator. Values are copied: fasthttp reuses
// the request's memory once the handler returns, and a stream's spans live longer.
type requestHeaders struct{ h *fasthttp.RequestHeader }

var _ propagation.TextMapCarrier = requestHeaders{}

func (r requestHeaders) Get(key string) string { return string(r.h.Peek(key)) }

// Set is never called: a propagator only writes into outgoing requests.
func (r requestHeaders) Set(key, value string) { r.h.Set(key, value) }

func (r requestHeaders) Keys() []string {
	var keys []string
	r.h.VisitAll(func(k, _ []byte) { keys = append(keys, string(k)) })
	return keys
}
