package main

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.36.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/aigateway/ai-gateway/gateway"
)

// tracing is the OpenTelemetry pipeline of SPEC §19: spans batched in the background and sent to
// otel.endpoint over OTLP/HTTP. Nothing of it is global: the tracer and the propagator are handed
// to the gateway and the edge. When tracing is off both are nil, and so costs nothing.
type tracing struct {
	provider   *sdktrace.TracerProvider
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
}

// newTracing builds the pipeline from otel.*; it connects to nothing until the first export.
func newTracing(ctx context.Context, c gateway.OtelConfig) (*tracing, error) {
	if !c.Enabled() {
		return &tracing{}, nil
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(c.TracesURL()), otlptracehttp.WithHeaders(c.Headers))
	if err != nil {
		return nil, fmt.Errorf("otel: %w", err)
	}
	res, err := resource.Merge(resource.Default(),
		resource.NewSchemaless(semconv.ServiceName(c.ServiceName), semconv.ServiceVersion(version)))
	if err != nil {
		return nil, fmt.Errorf("otel resource: %w", err)
	}
	// A caller's traceparent decides for its own trace; new traces are kept at the ratio. The
	// batcher never blocks a request: past its queue, spans are dropped.
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(c.SampleRatio))),
	)
	return &tracing{
		provider:   tp,
		tracer:     tp.Tracer("github.com/aigateway/ai-gateway", trace.WithInstrumentationVersion(version)),
		propagator: propagation.TraceContext{},
	}, nil
}

// shutdown sends the spans still queued, within ctx.
func (t *tracing) shutdown(ctx context.Context) error {
	if t.provider == nil {
		return nil
	}
	return t.provider.Shutdown(ctx)
}
