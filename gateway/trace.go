package gateway

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.36.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/aigateway/ai-gateway/providers"
)

// Tracing (SPEC §19): a span per request, started by Do and ended by Call.End (or by Do, for a
// request refused before it was admitted), and a child span per upstream attempt, which the
// provider call runs under so that the upstream's traceparent names it. Spans carry the
// OpenTelemetry GenAI semantic-convention attributes. With Options.Tracer nil every function
// here returns at its first line: no span, no allocation.

// The gateway's own span attributes (the rest are semantic conventions).
const (
	attrDoor         = attribute.Key("ai_gateway.door")
	attrClient       = attribute.Key("ai_gateway.client")
	attrRequestID    = attribute.Key("ai_gateway.request_id")
	attrStream       = attribute.Key("ai_gateway.stream")
	attrTTFT         = attribute.Key("ai_gateway.time_to_first_token_ms")
	attrEstimated    = attribute.Key("ai_gateway.usage.estimated")
	attrRequestBody  = attribute.Key("ai_gateway.request.body")
	attrResponseBody = attribute.Key("ai_gateway.response.body")
	// attrProviderName is gen_ai.system's name in the newer conventions.
	attrProviderName = attribute.Key("gen_ai.provider.name")
)

// callSpans are the spans of an admitted call: the request's, and the open upstream attempt's.
type callSpans struct {
	span, attempt trace.Span
}

// traced gives the call its request span, for End to end.
func (c *Call) traced(span trace.Span) {
	if span != nil {
		c.spans = &callSpans{span: span}
	}
}

// errSuperseded ends an attempt's span that was still open when the next attempt started.
var errSuperseded = &providers.Error{Kind: providers.KindUpstream, Message: "attempt abandoned for another"}

// startRequest starts the span of x's request, a child of the trace context in ctx (the
// caller's traceparent, read by the front door), and notes its trace id in x.Admission when it
// is recorded. The span is nil when tracing is off, and for OpProbe (an administrator's test,
// not a request).
func (g *Gateway) startRequest(ctx context.Context, x *Exchange) (context.Context, trace.Span) {
	if g.tracer == nil || x.Admission.Op == OpProbe {
		return ctx, nil
	}
	adm := &x.Admission
	name := adm.Endpoint
	if name == "" {
		name = "ai_gateway " + adm.Op
	}
	attrs := make([]attribute.KeyValue, 0, 7)
	attrs = append(attrs, semconv.GenAIOperationNameKey.String(genAIOperation(adm.Op, adm.FrontDoor)),
		attrDoor.String(adm.FrontDoor), attrRequestID.String(adm.RequestID), attrStream.Bool(adm.Stream),
		semconv.ClientAddress(adm.ClientIP))
	if adm.Model != "" {
		attrs = append(attrs, semconv.GenAIRequestModel(adm.Model))
	}
	if c := x.Client; c != nil {
		attrs = append(attrs, attrClient.String(c.Name))
	}
	ctx, span := g.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
	if sc := span.SpanContext(); sc.IsSampled() {
		adm.TraceID = sc.TraceID().String()
	}
	return ctx, span
}

// refused ends the request span of a request refused before its call began, and returns err.
func refused(span trace.Span, err error) error {
	if span != nil {
		e := providers.AsError(err)
		endSpan(span, e.Status(), e, nil, nil)
	}
	return err
}

// startAttempt starts the span of one upstream attempt, a child of the call's request span, and
// returns the context to make the attempt with. An attempt whose span is still open is ended
// first, as abandoned; a retry ends it with its error (endAttempt) before starting the next.
func (c *Call) startAttempt(ctx context.Context) context.Context {
	s := c.spans
	if s == nil {
		return ctx
	}
	if s.attempt != nil {
		c.endAttempt(errSuperseded)
	}
	op, system := genAIOperation(c.adm.Op, c.client.Backend), genAISystem(c.client.Backend)
	attrs := make([]attribute.KeyValue, 0, 6)
	attrs = append(attrs, semconv.GenAIOperationNameKey.String(op), semconv.GenAISystemKey.String(system),
		attrProviderName.String(system), semconv.GenAIRequestModel(c.model), attrStream.Bool(c.adm.Stream))
	if c.maxOutput > 0 {
		attrs = append(attrs, semconv.GenAIRequestMaxTokens(c.maxOutput))
	}
	ctx, s.attempt = c.g.tracer.Start(ctx, op+" "+c.model, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	return ctx
}

// endAttempt ends the open attempt's span: failed with err, or successful when err is nil.
func (c *Call) endAttempt(err error) { c.finishAttempt(err, nil) }

func (c *Call) finishAttempt(err error, attrs []attribute.KeyValue) {
	s := c.spans
	if s == nil || s.attempt == nil {
		return
	}
	var e *providers.Error
	if err != nil {
		e = c.client.RedactError(providers.AsError(err))
	}
	endSpan(s.attempt, 0, e, c.client.upstreamKeys, attrs)
	s.attempt = nil
}

// endTrace ends the call's spans (End): the open attempt's with the answer's model, usage and
// finish reason, then the request's with those and the status the caller got.
func (c *Call) endTrace(o *Outcome, status int, perr *providers.Error, used string, ttft time.Duration) {
	s := c.spans
	if s == nil {
		return
	}
	if !s.span.IsRecording() && (s.attempt == nil || !s.attempt.IsRecording()) {
		c.finishAttempt(errOf(perr), nil)
		s.span.End()
		return
	}
	attrs := make([]attribute.KeyValue, 0, 14)
	attrs = append(attrs, semconv.GenAIResponseModel(used),
		semconv.GenAIUsageInputTokens(o.Usage.InputTokens), semconv.GenAIUsageOutputTokens(o.Usage.OutputTokens))
	if o.Usage.Estimated {
		attrs = append(attrs, attrEstimated.Bool(true))
	}
	if o.FinishReason != "" {
		attrs = append(attrs, semconv.GenAIResponseFinishReasons(o.FinishReason))
	}
	c.finishAttempt(errOf(perr), attrs[:len(attrs):len(attrs)]) // what endSpan adds is the attempt's own
	system := genAISystem(c.client.Backend)
	attrs = append(attrs, semconv.GenAISystemKey.String(system), attrProviderName.String(system))
	if ttft > 0 {
		attrs = append(attrs, attrTTFT.Float64(milliseconds(ttft)))
	}
	if c.g.storeBodies.Load() {
		key := c.client.upstreamKeys
		if len(o.RequestBody) > 0 {
			attrs = append(attrs, attrRequestBody.String(redact(clipBody(o.RequestBody), key, maxBodyBytes)))
		}
		if len(o.ResponseBody) > 0 {
			attrs = append(attrs, attrResponseBody.String(redact(clipBody(o.ResponseBody), key, maxBodyBytes)))
		}
	}
	endSpan(s.span, status, perr, c.client.upstreamKeys, attrs)
}

// endSpan ends span with attrs and the outcome: status is the HTTP status the caller got (0 for
// an attempt, whose upstream status the provider noted), e the failure if any. A failure is the
// span's error status unless it is the caller's own (a 4xx answer, on the request span).
func endSpan(span trace.Span, status int, e *providers.Error, secrets []string, attrs []attribute.KeyValue) {
	if !span.IsRecording() {
		span.End()
		return
	}
	if status > 0 {
		attrs = append(attrs, semconv.HTTPResponseStatusCode(status))
	}
	if e != nil || status >= 400 {
		kind := providers.KindForStatus(status)
		if e != nil {
			kind = e.Kind
		}
		attrs = append(attrs, semconv.ErrorTypeKey.String(errorClass(kind)))
		if status == 0 || status >= 500 || upstreamFailure(e, status) {
			msg := ""
			if e != nil {
				msg = redact(e.Message, secrets, maxErrorBytes)
			}
			span.SetStatus(codes.Error, msg)
		}
	}
	span.SetAttributes(attrs...)
	span.End()
}

func milliseconds(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func errOf(e *providers.Error) error {
	if e == nil {
		return nil
	}
	return e
}

// genAIOperation is gen_ai.operation.name for op, asked of a backend (or at a front door) of
// protocol proto.
func genAIOperation(op, proto string) string {
	switch op {
	case OpEmbed:
		return "embeddings"
	case OpCountTokens:
		return "count_tokens"
	case OpModels:
		return "list_models"
	case OpCompact:
		return "compact"
	}
	if proto == "gemini" {
		return "generate_content"
	}
	return "chat"
}

// genAISystem is gen_ai.system for a backend: the convention's name where it has one.
func genAISystem(backend string) string {
	switch backend {
	case "gemini":
		return "gcp.gemini"
	case "mistral":
		return "mistral_ai"
	case "azure":
		return "azure.ai.openai"
	}
	return backend
}
