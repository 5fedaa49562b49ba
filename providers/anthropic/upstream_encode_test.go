package anthropic

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

func ptr[T any](v T) *T { return &v }

const (
	pngDataURL = "data:image/png;base64,iVBORw0KGgo="
	pdfDataURL = "data:application/pdf;base64,JVBERi0xLjQ="
)

// toolHistory is a multi-turn conversation with parallel tool calls as an OpenAI client sends it:
// two system messages (the injected prompt first), a title-style double user message, an
// assistant turn with two calls (one with broken arguments), their results, and a follow-up.
func toolHistory() *providers.Request {
	return &providers.Request{
		Model: "claude-sonnet-4-5",
		Messages: []providers.Message{
			{Role: providers.RoleSystem, Content: []providers.Part{providers.TextPart("Injected by the gateway.")}},
			{Role: providers.RoleSystem, Content: []providers.Part{{Type: providers.PartText, Text: "You are a weather bot.", CacheControl: json.RawMessage(`{"type":"ephemeral"}`)}}},
			{Role: providers.RoleUser, Content: []providers.Part{providers.TextPart("Weather in Paris")}},
			{Role: providers.RoleUser, Content: []providers.Part{providers.TextPart("and in Rome?")}},
			{Role: providers.RoleAssistant, Content: []providers.Part{providers.TextPart("")}, ToolCalls: []providers.ToolCall{
				{ID: "call_1", Name: "get_weather", Arguments: `{"location": "Paris"}`},
				{ID: "call_2", Name: "get_weather", Arguments: `{"location":"Ro`},
			}},
			{Role: providers.RoleTool, ToolCallID: "call_1", Content: []providers.Part{providers.TextPart("sunny, 24°C")}},
			{Role: providers.RoleTool, ToolCallID: "call_2", IsError: true, Content: []providers.Part{providers.TextPart("bad arguments")}},
			{Role: providers.RoleUser, Content: []providers.Part{providers.TextPart("Thanks. Summarize.")}},
		},
		Tools: []providers.Tool{
			{Name: "get_weather", Description: "Current weather", Parameters: json.RawMessage(`{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}`)},
			{Name: "now", Description: "Current time"},
		},
		ToolChoice:        &providers.ToolChoice{Mode: providers.ToolChoiceRequired},
		ParallelToolCalls: ptr(false),
		MaxTokens:         1024,
		Temperature:       ptr(0.0),
		TopP:              ptr(0.9),
		TopK:              ptr(40),
		Stop:              []string{"END", " ", ""},
		User:              "user-42",
	}
}

func imageRequest() *providers.Request {
	return &providers.Request{
		Model: "claude-sonnet-4-5",
		Messages: []providers.Message{
			{Role: providers.RoleUser, Content: []providers.Part{
				providers.TextPart("What is in these?"),
				{Type: providers.PartImage, URL: pngDataURL, Detail: "high"},
				{Type: providers.PartImage, URL: "https://example.com/cat.jpg"},
				{Type: providers.PartImage, URL: pdfDataURL},
				{Type: providers.PartImage, URL: "data:image/svg+xml,%3Csvg%3E%3C%2Fsvg%3E"},
			}},
			{Role: providers.RoleAssistant, ToolCalls: []providers.ToolCall{{ID: "call.1", Name: "screenshot", Arguments: ""}}},
			{Role: providers.RoleTool, ToolCallID: "call.1", Content: []providers.Part{providers.TextPart("here"), {Type: providers.PartImage, URL: pngDataURL}}},
		},
		Stream: true,
	}
}

// thinkingRequest carries signed reasoning across a tool turn, with JSON-schema output.
func thinkingRequest() *providers.Request {
	return &providers.Request{
		Model: "claude-opus-4-1",
		Messages: []providers.Message{
			{Role: providers.RoleUser, Content: []providers.Part{providers.TextPart("Plan a trip")}},
			{Role: providers.RoleAssistant, Reasoning: "Need the weather first.", ReasoningSignature: "sig-abc",
				Content:   []providers.Part{providers.TextPart("Checking.")},
				ToolCalls: []providers.ToolCall{{ID: "toolu_1", Name: "get_weather", Arguments: `{"location":"Oslo"}`}}},
			{Role: providers.RoleTool, ToolCallID: "toolu_1", Content: []providers.Part{providers.TextPart("rain")}},
		},
		Tools:          []providers.Tool{{Name: "get_weather", Parameters: json.RawMessage(`{"type":"object"}`)}},
		ThinkingBudget: 2048,
		Temperature:    ptr(0.2),
		TopP:           ptr(0.99),
		ResponseFormat: &providers.ResponseFormat{Type: "json_schema", Name: "trip", Schema: json.RawMessage(`{"type":"object","properties":{"plan":{"type":"string"}}}`)},
	}
}

func TestEncodeRequestGolden(t *testing.T) {
	tests := []struct {
		name string
		req  *providers.Request
	}{
		{"encode_tool_history", toolHistory()},
		{"encode_images", imageRequest()},
		{"encode_thinking", thinkingRequest()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := EncodeRequest(tt.req)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, indentJSON(t, b))
		})
	}
}

// wireOf encodes req and decodes the result for assertions on the Messages body.
func wireOf(t *testing.T, req *providers.Request) wireRequest {
	t.Helper()
	b, err := EncodeRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	var w wireRequest
	if err := json.Unmarshal(b, &w); err != nil {
		t.Fatal(err)
	}
	return w
}

func TestEncodeRequestToolHistory(t *testing.T) {
	w := wireOf(t, toolHistory())
	if len(w.System) != 2 || w.System[0].Text != "Injected by the gateway." || string(w.System[1].CacheControl) != `{"type":"ephemeral"}` {
		t.Errorf("system = %+v, want the injected prompt first and the cache_control kept", w.System)
	}
	roles := []string{}
	for _, m := range w.Messages {
		roles = append(roles, m.Role)
	}
	if got := strings.Join(roles, ","); got != "user,assistant,user" {
		t.Fatalf("roles = %s, want user,assistant,user (same-role turns merged)", got)
	}
	if n := len(w.Messages[0].Content); n != 2 {
		t.Errorf("first user turn has %d blocks, want the two merged user messages", n)
	}
	asst := w.Messages[1].Content
	if len(asst) != 2 || asst[0].Type != "tool_use" || string(asst[0].Input) != `{"location":"Paris"}` || string(asst[1].Input) != `{}` {
		t.Errorf("assistant = %+v, want two tool_use blocks, the broken arguments as {}", asst)
	}
	last := w.Messages[2].Content
	if len(last) != 3 || last[0].Type != "tool_result" || last[1].Type != "tool_result" || last[2].Type != "text" {
		t.Fatalf("last user turn = %+v, want tool_result, tool_result, text", last)
	}
	if last[0].ToolUseID != "call_1" || last[1].ToolUseID != "call_2" || !last[1].IsError || last[0].IsError {
		t.Errorf("tool results = %+v %+v", last[0], last[1])
	}
	if w.ToolChoice == nil || w.ToolChoice.Type != "any" || !w.ToolChoice.DisableParallelToolUse {
		t.Errorf("tool_choice = %+v, want any + disable_parallel_tool_use", w.ToolChoice)
	}
	if string(w.Tools[1].InputSchema) != `{"type":"object","properties":{}}` {
		t.Errorf("tool without parameters got input_schema %s", w.Tools[1].InputSchema)
	}
	if len(w.StopSequences) != 1 || w.StopSequences[0] != "END" {
		t.Errorf("stop_sequences = %q, want the blank ones dropped", w.StopSequences)
	}
	if w.Temperature == nil || *w.Temperature != 0 || w.MaxTokens != 1024 || w.Metadata == nil || w.Metadata.UserID != "user-42" {
		t.Errorf("temperature %v max_tokens %d metadata %+v", w.Temperature, w.MaxTokens, w.Metadata)
	}
}

func TestEncodeRequestDefaults(t *testing.T) {
	req := &providers.Request{Model: "m", Messages: []providers.Message{{Role: providers.RoleUser, Content: []providers.Part{providers.TextPart("hi")}}}}
	b, err := EncodeRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

func TestEncodeRequestToolChoice(t *testing.T) {
	tools := []providers.Tool{{Name: "f"}}
	tests := []struct {
		name     string
		choice   *providers.ToolChoice
		parallel *bool
		tools    []providers.Tool
		want     string
	}{
		{"auto", &providers.ToolChoice{Mode: providers.ToolChoiceAuto}, nil, tools, `{"type":"auto"}`},
		{"required", &providers.ToolChoice{Mode: providers.ToolChoiceRequired}, nil, tools, `{"type":"any"}`},
		{"none", &providers.ToolChoice{Mode: providers.ToolChoiceNone}, ptr(false), tools, `{"type":"none"}`},
		{"named", &providers.ToolChoice{Mode: providers.ToolChoiceTool, Name: "f"}, nil, tools, `{"type":"tool","name":"f"}`},
		{"parallel off alone", nil, ptr(false), tools, `{"type":"auto","disable_parallel_tool_use":true}`},
		{"parallel on", nil, ptr(true), tools, `null`},
		{"no tools", &providers.ToolChoice{Mode: providers.ToolChoiceRequired}, nil, nil, `null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := wireOf(t, &providers.Request{Model: "m", Tools: tt.tools, ToolChoice: tt.choice, ParallelToolCalls: tt.parallel})
			got, _ := json.Marshal(w.ToolChoice)
			if string(got) != tt.want {
				t.Errorf("tool_choice = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestEncodeRequestThinking(t *testing.T) {
	user := providers.Message{Role: providers.RoleUser, Content: []providers.Part{providers.TextPart("hi")}}
	unsignedToolTurn := []providers.Message{user,
		{Role: providers.RoleAssistant, ToolCalls: []providers.ToolCall{{ID: "a", Name: "f", Arguments: "{}"}}},
		{Role: providers.RoleTool, ToolCallID: "a", Content: []providers.Part{providers.TextPart("ok")}},
	}
	tests := []struct {
		name         string
		req          providers.Request
		wantBudget   int
		wantMax      int
		wantSampling bool
	}{
		{"default max leaves room", providers.Request{ThinkingBudget: 2048, Messages: []providers.Message{user}}, 2048, 2048 + DefaultMaxTokens, false},
		{"budget clamped below cap", providers.Request{ThinkingBudget: 10000, MaxTokens: 8000, Messages: []providers.Message{user}}, 7999, 8000, false},
		{"budget raised to minimum", providers.Request{ThinkingBudget: 100, MaxTokens: 8000, Messages: []providers.Message{user}}, 1024, 8000, false},
		{"cap too small for thinking", providers.Request{ThinkingBudget: 2048, MaxTokens: 500, Temperature: ptr(0.5), Messages: []providers.Message{user}}, 0, 500, true},
		{"unsigned tool history", providers.Request{ThinkingBudget: 2048, MaxTokens: 8000, Temperature: ptr(0.5), Messages: unsignedToolTurn}, 0, 8000, true},
		{"effort medium", providers.Request{ReasoningEffort: "medium", MaxTokens: 8000, Messages: []providers.Message{user}}, 4096, 8000, false},
		{"effort high, no cap", providers.Request{ReasoningEffort: "high", Messages: []providers.Message{user}}, 16384, 16384 + DefaultMaxTokens, false},
		{"effort none", providers.Request{ReasoningEffort: "none", MaxTokens: 8000, Temperature: ptr(0.5), Messages: []providers.Message{user}}, 0, 8000, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Model = "m"
			w := wireOf(t, &tt.req)
			budget := 0
			if w.Thinking != nil {
				budget = w.Thinking.BudgetTokens
				if w.Thinking.Type != "enabled" {
					t.Errorf("thinking type %q", w.Thinking.Type)
				}
			}
			if budget != tt.wantBudget || w.MaxTokens != tt.wantMax {
				t.Errorf("budget %d max_tokens %d, want %d %d", budget, w.MaxTokens, tt.wantBudget, tt.wantMax)
			}
			if (w.Temperature != nil) != tt.wantSampling && tt.req.Temperature != nil {
				t.Errorf("temperature sent = %v, want %v", w.Temperature != nil, tt.wantSampling)
			}
		})
	}

	w := wireOf(t, thinkingRequest())
	asst := w.Messages[1].Content
	if asst[0].Type != "thinking" || asst[0].Thinking != "Need the weather first." || asst[0].Signature != "sig-abc" {
		t.Errorf("assistant turn starts with %+v, want the signed thinking block", asst[0])
	}
	if w.Temperature != nil || w.TopP == nil || w.OutputConfig == nil || w.OutputConfig.Format.Type != "json_schema" {
		t.Errorf("temperature %v top_p %v output_config %+v", w.Temperature, w.TopP, w.OutputConfig)
	}
}

func TestEncodeRequestImages(t *testing.T) {
	w := wireOf(t, imageRequest())
	c := w.Messages[0].Content
	if c[1].Type != "image" || c[1].Source.Type != "base64" || c[1].Source.MediaType != "image/png" || c[1].Source.Data != "iVBORw0KGgo=" {
		t.Errorf("data URL image = %+v %+v", c[1], c[1].Source)
	}
	if c[2].Source.Type != "url" || c[2].Source.URL != "https://example.com/cat.jpg" {
		t.Errorf("http image = %+v", c[2].Source)
	}
	if c[3].Type != "document" || c[3].Source.MediaType != "application/pdf" {
		t.Errorf("pdf = %+v", c[3])
	}
	if c[4].Source.MediaType != "image/svg+xml" || c[4].Source.Data != "PHN2Zz48L3N2Zz4=" {
		t.Errorf("percent-encoded data URL = %+v", c[4].Source)
	}
	if tu := w.Messages[1].Content[0]; tu.ID != "call_1" || string(tu.Input) != "{}" {
		t.Errorf("tool_use = %+v, want the id made valid and empty arguments as {}", tu)
	}
	tr := w.Messages[2].Content[0]
	if tr.ToolUseID != "call_1" || !strings.HasPrefix(string(tr.Content), `[{"type":"text","text":"here"},{"type":"image"`) {
		t.Errorf("tool_result = %s / %s, want the id mapped like the call's and blocks with the image", tr.ToolUseID, tr.Content)
	}
	if !w.Stream {
		t.Error("stream not set")
	}
}

func TestEncodeRequestToolResultWithoutID(t *testing.T) {
	// Gemini-translated history can carry calls without ids: ids are made up and results are
	// paired with the calls by name, in order.
	req := &providers.Request{Model: "m", Messages: []providers.Message{
		{Role: providers.RoleUser, Content: []providers.Part{providers.TextPart("go")}},
		{Role: providers.RoleAssistant, ToolCalls: []providers.ToolCall{{Name: "a", Arguments: "{}"}, {Name: "b", Arguments: "{}"}}},
		{Role: providers.RoleTool, ToolName: "b", Content: []providers.Part{providers.TextPart("B")}},
		{Role: providers.RoleTool, ToolName: "a", Content: []providers.Part{providers.TextPart("A")}},
	}}
	w := wireOf(t, req)
	calls, results := w.Messages[1].Content, w.Messages[2].Content
	if calls[0].ID == "" || calls[0].ID == calls[1].ID {
		t.Fatalf("made-up ids %q %q", calls[0].ID, calls[1].ID)
	}
	if results[0].ToolUseID != calls[1].ID || results[1].ToolUseID != calls[0].ID {
		t.Errorf("results answer %q %q, want %q %q", results[0].ToolUseID, results[1].ToolUseID, calls[1].ID, calls[0].ID)
	}
}

func TestEncodeRequestErrors(t *testing.T) {
	tests := []struct {
		name string
		req  *providers.Request
		want string
	}{
		{"unknown role", &providers.Request{Messages: []providers.Message{{Role: "function"}}}, `unsupported role "function"`},
		{"gs image", &providers.Request{Messages: []providers.Message{{Role: providers.RoleUser, Content: []providers.Part{{Type: providers.PartImage, URL: "gs://bucket/x.png"}}}}}, `not "gs:"`},
		{"bad data URL", &providers.Request{Messages: []providers.Message{{Role: providers.RoleUser, Content: []providers.Part{{Type: providers.PartImage, URL: "data:image/png;base64"}}}}}, "malformed data URL"},
		{"bad schema", &providers.Request{Tools: []providers.Tool{{Name: "f", Parameters: json.RawMessage(`{"type":`)}}}, "parameters is not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := EncodeRequest(tt.req)
			var e *providers.Error
			if !errors.As(err, &e) || e.Kind != providers.KindBadRequest || !strings.Contains(e.Message, tt.want) {
				t.Errorf("err = %v, want a bad request containing %q", err, tt.want)
			}
		})
	}
}
