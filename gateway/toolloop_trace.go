package gateway

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.36.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/aigateway/ai-gateway/gateway/mcpservers"
)

// Attributes of a tool call's span.
const (
	attrToolName   = attribute.Key("gen_ai.tool.name")
	attrToolStatus = attribute.Key("ai_gateway.tool.status")
)

// traceTool starts the span of one MCP tool call (SPEC §18, §19), a child of the request's,
// and returns what ends it with the call's result. Without tracing it does nothing.
func (c *Call) traceTool(ctx context.Context, name string) func(mcpservers.Result) {
	if c.spans == nil {
		return func(mcpservers.Result) {}
	}
	_, span := c.g.tracer.Start(ctx, "execute_tool "+name, trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(semconv.GenAIOperationNameKey.String("execute_tool"), attrToolName.String(name)))
	return func(res mcpservers.Result) {
		span.SetAttributes(attrToolStatus.String(res.Status))
		if res.IsError {
			span.SetStatus(codes.Error, firstLine(res.Text))
		}
		span.End()
	}
}
