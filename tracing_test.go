package main

import (
	"compress/gzip"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aigateway/ai-gateway/providers/upstreamtest"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// otlpReceiver is an OTLP/HTTP collector in the test: it keeps every span it is sent, with its
// resource's attributes, and the headers of the exports.
type otlpReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	spans    []*tracepb.Span
	resource map[string]any
	headers  http.Header
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	t.Helper()
	r := &otlpReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost || req.URL.Path != "/v1/traces" {
			t.Errorf("collector got %s %s, want POST /v1/traces", req.Method, req.URL.Path)
			http.NotFound(w, req)
			return
		}
		var body io.Reader = req.Body
		if req.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(req.Body)
			if err != nil {
				t.Errorf("collector: %v", err)
				return
			}
			body = zr
		}
		b, _ := io.ReadAll(body)
		var export coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(b, &export); err != nil {
			t.Errorf("collector: not an OTLP export: %v", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.headers = req.Header.Clone()
		for _, rs := range export.GetResourceSpans() {
			r.resource = attrMap(rs.GetResource().GetAttributes())
			for _, ss := range rs.GetScopeSpans() {
				r.spans = append(r.spans, ss.GetSpans()...)
			}
		}
		r.mu.Unlock()
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(out)
	}))
	t.Cleanup(r.Close)
	return r
}

// trace returns the spans of one trace, by name.
func (r *otlpReceiver) trace(traceID string) map[string]*tracepb.Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]*tracepb.Span{}
	for _, s := range r.spans {
		if hex.EncodeToString(s.GetTraceId()) == traceID {
			out[s.GetName()] = s
		}
	}
	return out
}

func attrMap(kvs []*commonpb.KeyValue) map[string]any {
	m := map[string]any{}
	for _, kv := range kvs {
		m[kv.GetKey()] = anyValue(kv.GetValue())
	}
	return m
}

func anyValue(v *commonpb.AnyValue) any {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_IntValue:
		return x.IntValue
	case *commonpb.AnyValue_BoolValue:
		return x.BoolValue
	case *commonpb.AnyValue_DoubleValue:
		return x.DoubleValue
	case *commonpb.AnyValue_ArrayValue:
		var out []any
		for _, e := range x.ArrayValue.GetValues() {
			out = append(out, anyValue(e))
		}
		return out
	}
	return fmt.Sprint(v)
}

// checkAttrs compares the attributes of span that want names; a nil want value only asks that
// the attribute be there.
func checkAttrs(t *testing.T, span *tracepb.Span, want map[string]any) {
	t.Helper()
	got := attrMap(span.GetAttributes())
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("span %q lacks %s (has %v)", span.GetName(), k, got)
		case w != nil && fmt.Sprint(g) != fmt.Sprint(w):
			t.Errorf("span %q: %s = %v, want %v", span.GetName(), k, g, w)
		}
	}
}

// TestTracingSpansOfAStreamedTranslatedRequestAndAFailedOne runs the whole program with
// otel.endpoint pointing at a collector in the test (SPEC §19). A caller's traceparent becomes
// the parent of the request span, the upstream attempt is its child, and the upstream is sent a
// traceparent naming the attempt; the spans carry the GenAI attributes and no prompt text (body
// logging is off); a failed upstream call marks both spans as errors; the request log keeps the
// trace id.
func TestTracingSpansOfAStreamedTranslatedRequestAndAFailedOne(t *testing.T) {
	collector := newOTLPReceiver(t)
	var mu sync.Mutex
	upstreamTraceparent := map[string]string{} // model → traceparent the upstream got
	mock := newRelMock(t, func(w http.ResponseWriter, r *http.Request) {
		u := upstreamtest.ReadRequest(r)
		var m struct {
			Model string `json:"model"`
		}
		json.Unmarshal(u.Body, &m)
		mu.Lock()
		upstreamTraceparent[m.Model] = r.Header.Get("traceparent")
		mu.Unlock()
		if m.Model == "broken" {
			upstreamtest.WriteError(w, u.Proto, http.StatusServiceUnavailable, "", "the model is overloaded")
			return
		}
		upstreamtest.WriteAnswer(w, u, upstreamtest.Reply{Texts: []string{"Hello", ", world"}, Input: 11, Output: 7})
	})
	g := startRelGateway(t, map[string]string{
		"AIGW_OTEL_ENDPOINT":     collector.URL,
		"AIGW_OTEL_HEADERS":      "x-collector-key=c0llect0r",
		"AIGW_OTEL_SERVICE_NAME": "gateway-under-test",
	}, "")
	g.createClient(beOpenAI, mock.URL, nil)

	const (
		okTrace     = "4bf92f3577b34da6a3ce929d0e0e4736"
		okParent    = "00f067aa0ba902b7"
		brokenTrace = "0af7651916cd43dd8448eb211c80319c"
		brokenPrnt  = "b7ad6b7169203331"
	)
	send := func(model, trace, parent string) (int, string) {
		body := `{"model":"` + model + `","max_tokens":256,"stream":true,"messages":[{"role":"user","content":"hello there"}]}`
		req := g.newRequest(t.Context(), relAnthropic, beOpenAI, true, body)
		req.Header.Set("traceparent", "00-"+trace+"-"+parent+"-01")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	okStatus, okBody := send("m", okTrace, okParent)
	if text, sawErr := relStreamedText(t, relAnthropic, okBody); okStatus != 200 || sawErr || text != "Hello, world" {
		t.Fatalf("streamed answer: %d %q (error event %v)", okStatus, text, sawErr)
	}
	brokenStatus, brokenBody := send("broken", brokenTrace, brokenPrnt)
	if brokenStatus < 500 {
		t.Fatalf("failed upstream: %d %s", brokenStatus, brokenBody)
	}
	// Stopping sends the spans still queued.
	if err := g.stop(); err != nil {
		t.Fatal(err)
	}

	if got := collector.headers.Get("x-collector-key"); got != "c0llect0r" {
		t.Errorf("export header x-collector-key = %q, want otel.headers' value", got)
	}
	if name := collector.resource["service.name"]; name != "gateway-under-test" {
		t.Errorf("service.name = %v", name)
	}

	// The streamed, translated request (Anthropic door, OpenAI-compatible backend).
	spans := collector.trace(okTrace)
	req, attempt := spans["/v1/messages"], spans["chat m"]
	if req == nil || attempt == nil || len(spans) != 2 {
		t.Fatalf("spans of the streamed request: %v, want /v1/messages and chat m", keysOf(spans))
	}
	if hex.EncodeToString(req.GetParentSpanId()) != okParent || req.GetKind() != tracepb.Span_SPAN_KIND_SERVER {
		t.Errorf("request span: parent %x kind %v, want the caller's span %s, server", req.GetParentSpanId(), req.GetKind(), okParent)
	}
	if string(attempt.GetParentSpanId()) != string(req.GetSpanId()) || attempt.GetKind() != tracepb.Span_SPAN_KIND_CLIENT {
		t.Errorf("attempt span: parent %x kind %v, want the request span %x, client", attempt.GetParentSpanId(), attempt.GetKind(), req.GetSpanId())
	}
	if want := "00-" + okTrace + "-" + hex.EncodeToString(attempt.GetSpanId()) + "-01"; upstreamTraceparent["m"] != want {
		t.Errorf("upstream got traceparent %q, want %q (the attempt's span)", upstreamTraceparent["m"], want)
	}
	answer := map[string]any{
		"gen_ai.system": beOpenAI, "gen_ai.response.model": "m", "gen_ai.usage.input_tokens": 11,
		"gen_ai.usage.output_tokens": 7, "gen_ai.response.finish_reasons": []any{"stop"},
	}
	checkAttrs(t, req, answer)
	checkAttrs(t, req, map[string]any{
		"ai_gateway.door": "anthropic", "ai_gateway.client": "app-" + beOpenAI, "gen_ai.request.model": "m",
		"gen_ai.operation.name": "chat", "http.response.status_code": 200, "ai_gateway.stream": true,
		"ai_gateway.time_to_first_token_ms": nil,
	})
	checkAttrs(t, attempt, answer)
	checkAttrs(t, attempt, map[string]any{
		"gen_ai.request.model": "m", "gen_ai.operation.name": "chat", "http.response.status_code": 200,
		"server.address": "127.0.0.1", "ai_gateway.upstream.time_to_first_byte_ms": nil,
	})
	for _, s := range []*tracepb.Span{req, attempt} {
		if s.GetStatus().GetCode() == tracepb.Status_STATUS_CODE_ERROR {
			t.Errorf("span %q of a good answer has an error status: %v", s.GetName(), s.GetStatus())
		}
	}

	// The failed one: both spans are errors, the attempt with the upstream's status.
	spans = collector.trace(brokenTrace)
	req, attempt = spans["/v1/messages"], spans["chat broken"]
	if req == nil || attempt == nil || len(spans) != 2 {
		t.Fatalf("spans of the failed request: %v, want /v1/messages and chat broken", keysOf(spans))
	}
	if hex.EncodeToString(req.GetParentSpanId()) != brokenPrnt || string(attempt.GetParentSpanId()) != string(req.GetSpanId()) {
		t.Errorf("failed request: request span's parent %x, attempt's parent %x", req.GetParentSpanId(), attempt.GetParentSpanId())
	}
	if want := "00-" + brokenTrace + "-" + hex.EncodeToString(attempt.GetSpanId()) + "-01"; upstreamTraceparent["broken"] != want {
		t.Errorf("upstream got traceparent %q, want %q", upstreamTraceparent["broken"], want)
	}
	checkAttrs(t, req, map[string]any{"http.response.status_code": brokenStatus, "error.type": nil, "gen_ai.request.model": "broken"})
	checkAttrs(t, attempt, map[string]any{"http.response.status_code": 503, "error.type": nil})
	for _, s := range []*tracepb.Span{req, attempt} {
		if st := s.GetStatus(); st.GetCode() != tracepb.Status_STATUS_CODE_ERROR || !strings.Contains(st.GetMessage(), "overloaded") {
			t.Errorf("span %q of a failed call: status %v, want an error saying why", s.GetName(), st)
		}
	}

	// No prompt or answer text and no key in any span while body logging is off.
	collector.mu.Lock()
	for _, s := range collector.spans {
		for k, v := range attrMap(s.GetAttributes()) {
			if str := fmt.Sprint(v); strings.Contains(str, "hello there") || strings.Contains(str, "Hello") ||
				strings.Contains(str, upstreamSecretOf(beOpenAI)) {
				t.Errorf("span %q attribute %s = %q carries text or a key", s.GetName(), k, str)
			}
		}
	}
	collector.mu.Unlock()

	// The request log keeps the trace ids.
	rows := g.openDB().requestLogs()
	if len(rows) != 2 || rows[0].TraceID != okTrace || rows[1].TraceID != brokenTrace {
		for _, r := range rows {
			t.Logf("row %d: %s %d trace %q", r.ID, r.ModelRequested, r.Status, r.TraceID)
		}
		t.Errorf("request log: %d rows, want 2 with the callers' trace ids", len(rows))
	}
}

func keysOf(m map[string]*tracepb.Span) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
