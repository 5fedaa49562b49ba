package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
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

// Stream streams what Chat answers: a tool call's arguments in two fragments after a line of
// text, an answer's text in two pieces.
func (p *toolModel) Stream(ctx context.Context, r *providers.Request) (providers.Stream, error) {
	resp, _ := p.Chat(ctx, r)
	ch := resp.Choices[0]
	evs := []providers.StreamEvent{{Kind: providers.EventStart, ID: "s", Model: r.Model}}
	if t := ch.Message.Text(); t != "" {
		evs = append(evs, providers.StreamEvent{Kind: providers.EventText, Text: t[:len(t)/2]},
			providers.StreamEvent{Kind: providers.EventText, Text: t[len(t)/2:]})
	}
	for i, tc := range ch.Message.ToolCalls {
		evs = append(evs, providers.StreamEvent{Kind: providers.EventText, Text: "looking. "},
			providers.StreamEvent{Kind: providers.EventToolCall, ToolIndex: i, ToolID: tc.ID, ToolName: tc.Name, Args: tc.Arguments[:3]},
			providers.StreamEvent{Kind: providers.EventToolArgs, ToolIndex: i, Args: tc.Arguments[3:]})
	}
	evs = append(evs, providers.StreamEvent{Kind: providers.EventFinish, FinishReason: ch.FinishReason},
		providers.StreamEvent{Kind: providers.EventUsage, Usage: &resp.Usage})
	return &eventList{evs: evs}, nil
}

// eventList is a stream of the events it holds.
type eventList struct{ evs []providers.StreamEvent }

func (s *eventList) Next() (providers.StreamEvent, error) {
	if len(s.evs) == 0 {
		return providers.StreamEvent{}, io.EOF
	}
	ev := s.evs[0]
	s.evs = s.evs[1:]
	return ev, nil
}

func (s *eventList) Close() error { return nil }

// eventDoor writes each event of a stream as one line naming it, so a test can read what a
// caller's stream was made of.
type eventDoor struct{ textDoor }

func (eventDoor) NewStream(id, model string) providers.StreamWriter { return eventWriter{} }

type eventWriter struct{}

func (eventWriter) Encode(dst []byte, ev providers.StreamEvent) []byte {
	switch ev.Kind {
	case providers.EventStart:
		return append(dst, "start\n"...)
	case providers.EventText:
		return fmt.Appendf(dst, "text %q\n", ev.Text)
	case providers.EventToolCall, providers.EventToolArgs:
		return fmt.Appendf(dst, "tool %d %s %s\n", ev.ToolIndex, ev.ToolName, ev.Args)
	case providers.EventFinish:
		return fmt.Appendf(dst, "finish %s\n", ev.FinishReason)
	case providers.EventUsage:
		return fmt.Appendf(dst, "usage %d/%d\n", ev.Usage.InputTokens, ev.Usage.OutputTokens)
	}
	return dst
}
func (eventWriter) Frame(dst []byte, _ providers.Frame) []byte { return dst }
func (eventWriter) Finish(dst []byte) []byte                   { return append(dst, "end\n"...) }
func (eventWriter) Error(dst []byte, e *providers.Error) []byte {
	return fmt.Appendf(dst, "error %s\n", e.Message)
}

// A streamed tool loop is one stream: one start, the text of both model calls as they came
// (the tool call held back and run between them), the last call's finish reason and the usage
// of both; its trace has a span per model call and one for the tool.
func TestStreamedToolLoop(t *testing.T) {
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
	x := chatExchange(e.auth("app"))
	x.Door = eventDoor{}
	decode := x.Decode
	x.Decode = func() (*providers.Request, error) {
		r, err := decode()
		r.Stream = true
		return r, err
	}
	a, err := e.gw.Do(context.Background(), x)
	if err != nil || a.Stream == nil {
		t.Fatalf("Do: %v, stream %v", err, a.Stream)
	}
	var out []byte
	for err == nil {
		out, err = a.Stream.Next(out)
	}
	a.Stream.Close()
	a.Stream.End(false, err)
	want := "start\ntext \"looking. \"\ntext \"answer\"\ntext \": found\"\nfinish stop\nusage 6/4\nend\n"
	if string(out) != want {
		t.Errorf("the caller's stream:\n%s\nwant:\n%s", out, want)
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
