package gateway

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/providers"
)

// echoProvider answers every chat with a fixed text that echoes the upstream key it was given,
// as some upstreams do in their messages.
type echoProvider struct{ fakeProvider }

func (p *echoProvider) Chat(_ context.Context, r *providers.Request) (*providers.Response, error) {
	return &providers.Response{Model: r.Model + "-2026", Usage: providers.Usage{InputTokens: 3, OutputTokens: 2},
		Choices: []providers.Choice{{FinishReason: providers.FinishStop, Message: providers.Message{
			Role: providers.RoleAssistant, Content: []providers.Part{providers.TextPart("the answer, key " + p.cfg.APIKey)}}}}}, nil
}

// textDoor writes a whole answer as its text, enough for Do.
type textDoor struct{ providers.Door }

func (textDoor) Protocol() string { return "test" }
func (textDoor) EncodeResponse(r *providers.Response) []byte {
	return []byte(r.Choices[0].Message.Content[0].Text)
}

// tracedEnv is a gateway whose spans go to a recorder, with one client "app" whose upstream is
// an echoProvider.
func tracedEnv(t *testing.T, row db.Client) (*testEnv, *tracetest.SpanRecorder) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	e := newEnv(t, []db.Client{row}, func(o *Options) {
		o.Tracer = tp.Tracer("test")
		o.Providers = map[string]ProviderFactory{"openai": func(cfg providers.Config) (providers.Provider, error) {
			return &echoProvider{fakeProvider{cfg: cfg}}, nil
		}}
	})
	return e, rec
}

func chatExchange(c *Client) *Exchange {
	body := []byte(`{"messages":[{"role":"user","content":"hello there"}]}`)
	return &Exchange{Client: c, Door: textDoor{}, Body: body,
		Admission: Admission{Endpoint: "/v1/chat/completions", FrontDoor: "openai", Model: "gpt-4o", RequestID: "req-1"},
		Decode: func() (*providers.Request, error) {
			return &providers.Request{Messages: []providers.Message{{Role: providers.RoleUser,
				Content: []providers.Part{providers.TextPart("hello there")}}}}, nil
		}}
}

func spanAttrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

// Prompt and answer text reach a span only while body logging is on, and then with the
// client's upstream key redacted.
func TestTraceCarriesBodiesOnlyWhenTheyAreLogged(t *testing.T) {
	e, rec := tracedEnv(t, clientRow(1, "app"))
	for _, store := range []bool{false, true} {
		e.gw.SetStoreBodies(store)
		a, err := e.gw.Do(context.Background(), chatExchange(e.auth("app")))
		if err != nil || !strings.Contains(string(a.Body), "the answer") {
			t.Fatalf("Do: %q, %v", a.Body, err)
		}
	}
	ended := rec.Ended()
	if len(ended) != 4 {
		t.Fatalf("%d spans, want a request and an attempt span per call", len(ended))
	}
	for i, s := range ended {
		attrs := spanAttrs(s)
		for k, v := range attrs {
			if strings.Contains(v.Emit(), "upstream-secret-app") {
				t.Errorf("span %q: %s holds the upstream key: %q", s.Name(), k, v.Emit())
			}
		}
		reqBody, hasReq := attrs[attrRequestBody]
		respBody, hasResp := attrs[attrResponseBody]
		switch {
		case s.Name() != "/v1/chat/completions" || i < 2:
			if hasReq || hasResp {
				t.Errorf("span %q (#%d) carries bodies with body logging off, or on an attempt", s.Name(), i)
			}
		case !strings.Contains(reqBody.AsString(), "hello there") || respBody.AsString() != "the answer, key [REDACTED]":
			t.Errorf("request span with body logging on: request %q, response %q", reqBody.AsString(), respBody.AsString())
		}
	}
}

// A request refused at admission gets a request span with the refusal's class and status (a
// caller's 4xx is no error of the gateway's), and its log row keeps the trace id.
func TestTraceOfARefusedRequest(t *testing.T) {
	row := clientRow(1, "app")
	row.ModelWhitelist = db.Strings{"gpt-4o-mini"}
	e, rec := tracedEnv(t, row)
	_, err := e.gw.Do(context.Background(), chatExchange(e.auth("app")))
	perr(t, err, providers.KindPermission)
	ended := rec.Ended()
	if len(ended) != 1 || ended[0].Name() != "/v1/chat/completions" {
		t.Fatalf("spans %v, want the request span alone (nothing went upstream)", ended)
	}
	s := ended[0]
	attrs := spanAttrs(s)
	if attrs["error.type"].AsString() != "permission" || attrs["http.response.status_code"].AsInt64() != 403 ||
		s.Status().Code == codes.Error {
		t.Errorf("refused request span: attributes %v, status %v", attrs, s.Status())
	}
	e.flush()
	if rows := e.logRows(); len(rows) != 1 || rows[0].TraceID != s.SpanContext().TraceID().String() {
		t.Errorf("log rows %+v, want one with trace id %s", rows, s.SpanContext().TraceID())
	}
}

// With tracing off, the tracing hooks on the request path allocate nothing.
func TestTracingOffAllocatesNothing(t *testing.T) {
	e := newEnv(t, []db.Client{clientRow(1, "app")}, nil)
	x := chatExchange(e.auth("app"))
	call, err := e.gw.Begin(x.Client, x.Admission)
	if err != nil {
		t.Fatal(err)
	}
	defer call.End(ok200(1, 1))
	ctx := context.Background()
	o := ok200(1, 1)
	allocs := testing.AllocsPerRun(100, func() {
		c, span := e.gw.startRequest(ctx, x)
		_ = refused(span, nil)
		call.traced(span)
		c = call.startAttempt(c)
		call.endAttempt(nil)
		call.endTrace(&o, 200, nil, "m", 1)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per request with tracing off, want 0", allocs)
	}
}
