package gateway

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway/mcpservers"
	"github.com/aigateway/ai-gateway/providers"
)

// toolModel calls srv__lookup until the request carries its result, then answers with it.
type toolModel struct{ fakeProvider }

func (p *toolModel) Chat(_ context.Context, r *providers.Request) (*providers.Response, error) {
	last := r.Messages[len(r.Messages)-1]
	msg := providers.Message{Role: providers.RoleAssistant}
	finish := providers.FinishStop
	if last.Role == providers.RoleTool {
		msg.Content = []providers.Part{providers.TextPart("answer: " + last.Text())}
	} else {
		msg.ToolCalls = []providers.ToolCall{{ID: "c1", Name: "srv__lookup", Arguments: `{"q":"x"}`}}
		finish = providers.FinishToolCalls
	}
	return &providers.Response{Model: r.Model, Usage: providers.Usage{InputTokens: 3, OutputTokens: 2},
		Choices: []providers.Choice{{FinishReason: finish, Message: msg}}}, nil
}

// fakeTools offers srv__lookup and answers it with "found".
type fakeTools struct{}

func (fakeTools) Tools(_ context.Context, allowed []string) []mcpservers.Tool {
	if len(allowed) == 0 {
		return nil
	}
	return []mcpservers.Tool{{Name: "srv__lookup", Server: "srv", InputSchema: json.RawMessage(`{"type":"object"}`)}}
}

func (fakeTools) Call(context.Context, []string, string, json.RawMessage) mcpservers.Result {
	return mcpservers.Result{Text: "found", Status: mcpservers.StatusOK}
}

// A tool loop's trace: the request's span, one span per model call (each ended as answered,
// none abandoned) and an execute_tool span for the tool call between them.
func TestTraceOfAToolLoop(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	row := clientRow(1, "app")
	row.ToolMode, row.MCPServers = db.ToolModeGateway, db.Strings{"srv"}
	e := newEnv(t, []db.Client{row}, func(o *Options) {
		o.Tracer = tp.Tracer("test")
		o.Tools = fakeTools{}
		o.Providers = map[string]ProviderFactory{"openai": func(cfg providers.Config) (providers.Provider, error) {
			return &toolModel{fakeProvider{cfg: cfg}}, nil
		}}
	})
	a, err := e.gw.Do(context.Background(), chatExchange(e.auth("app")))
	if err != nil || string(a.Body) != "answer: found" || a.Usage.InputTokens != 6 {
		t.Fatalf("Do: %q (usage %+v), %v", a.Body, a.Usage, err)
	}
	var names []string
	for _, s := range rec.Ended() {
		names = append(names, s.Name())
		if strings.Contains(s.Status().Description, "abandoned") {
			t.Errorf("span %q ended as abandoned", s.Name())
		}
	}
	if got := strings.Join(names, ","); got != "chat gpt-4o,execute_tool srv__lookup,chat gpt-4o,/v1/chat/completions" {
		t.Errorf("spans %s", got)
	}
}
