package anthropic

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

// canonical → Messages request → canonical: what a backend client sends and the front door reads
// must agree.
func TestRequestRoundTrip(t *testing.T) {
	cc := json.RawMessage(`{"type":"ephemeral"}`)
	tests := []struct {
		name string
		in   *providers.Request
		want *providers.Request
	}{
		{"multi-turn parallel tools", toolHistory(), &providers.Request{
			Model: "claude-sonnet-4-5",
			Messages: []providers.Message{
				{Role: providers.RoleSystem, Content: []providers.Part{providers.TextPart("Injected by the gateway."), {Type: providers.PartText, Text: "You are a weather bot.", CacheControl: cc}}},
				{Role: providers.RoleUser, Content: []providers.Part{providers.TextPart("Weather in Paris"), providers.TextPart("and in Rome?")}},
				{Role: providers.RoleAssistant, ToolCalls: []providers.ToolCall{
					{ID: "call_1", Name: "get_weather", Arguments: `{"location":"Paris"}`},
					{ID: "call_2", Name: "get_weather", Arguments: `{}`},
				}},
				{Role: providers.RoleTool, ToolCallID: "call_1", ToolName: "get_weather", Content: []providers.Part{providers.TextPart("sunny, 24°C")}},
				{Role: providers.RoleTool, ToolCallID: "call_2", ToolName: "get_weather", IsError: true, Content: []providers.Part{providers.TextPart("bad arguments")}},
				{Role: providers.RoleUser, Content: []providers.Part{providers.TextPart("Thanks. Summarize.")}},
			},
			Tools: []providers.Tool{
				{Name: "get_weather", Description: "Current weather", Parameters: json.RawMessage(`{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}`)},
				{Name: "now", Description: "Current time", Parameters: json.RawMessage(`{"type":"object","properties":{}}`)},
			},
			ToolChoice:        &providers.ToolChoice{Mode: providers.ToolChoiceRequired},
			ParallelToolCalls: ptr(false),
			MaxTokens:         1024, Temperature: ptr(0.0), TopP: ptr(0.9), TopK: ptr(40),
			Stop: []string{"END"}, User: "user-42",
		}},
		{"thinking with signature across turns", thinkingRequest(), &providers.Request{
			Model: "claude-opus-4-1",
			Messages: []providers.Message{
				{Role: providers.RoleUser, Content: []providers.Part{providers.TextPart("Plan a trip")}},
				{Role: providers.RoleAssistant, Reasoning: "Need the weather first.", ReasoningSignature: "sig-abc",
					Content:   []providers.Part{providers.TextPart("Checking.")},
					ToolCalls: []providers.ToolCall{{ID: "toolu_1", Name: "get_weather", Arguments: `{"location":"Oslo"}`}}},
				{Role: providers.RoleTool, ToolCallID: "toolu_1", ToolName: "get_weather", Content: []providers.Part{providers.TextPart("rain")}},
			},
			Tools:          []providers.Tool{{Name: "get_weather", Parameters: json.RawMessage(`{"type":"object"}`)}},
			MaxTokens:      2048 + DefaultMaxTokens,
			ThinkingBudget: 2048,
			TopP:           ptr(0.99),
			ResponseFormat: &providers.ResponseFormat{Type: "json_schema", Name: ResponseFormatName, Schema: json.RawMessage(`{"type":"object","properties":{"plan":{"type":"string"}}}`)},
		}},
		{"images", &providers.Request{
			Model: "m", MaxTokens: 100, Stream: true,
			Messages: []providers.Message{
				{Role: providers.RoleUser, Content: []providers.Part{providers.TextPart("Compare"), {Type: providers.PartImage, URL: pngDataURL, CacheControl: cc}, {Type: providers.PartImage, URL: "https://example.com/cat.jpg"}}},
				{Role: providers.RoleAssistant, ToolCalls: []providers.ToolCall{{ID: "c1", Name: "zoom", Arguments: `{"x":1}`}}},
				{Role: providers.RoleTool, ToolCallID: "c1", Content: []providers.Part{providers.TextPart("zoomed"), {Type: providers.PartImage, URL: pngDataURL}}},
			},
		}, &providers.Request{
			Model: "m", MaxTokens: 100, Stream: true,
			Messages: []providers.Message{
				{Role: providers.RoleUser, Content: []providers.Part{providers.TextPart("Compare"), {Type: providers.PartImage, URL: pngDataURL, MIMEType: "image/png", CacheControl: cc}, {Type: providers.PartImage, URL: "https://example.com/cat.jpg"}}},
				{Role: providers.RoleAssistant, ToolCalls: []providers.ToolCall{{ID: "c1", Name: "zoom", Arguments: `{"x":1}`}}},
				{Role: providers.RoleTool, ToolCallID: "c1", ToolName: "zoom", Content: []providers.Part{providers.TextPart("zoomed"), {Type: providers.PartImage, URL: pngDataURL, MIMEType: "image/png"}}},
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := EncodeRequest(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeRequest(b)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := dump(t, got), dump(t, tt.want); string(g) != string(w) {
				t.Errorf("round trip\n%s\nwant\n%s", g, w)
			}
		})
	}
}

// Messages request → canonical → Messages request: the body an Anthropic client sent comes back
// equivalent, except for what the encoder normalizes on purpose (tool results first in their
// turn, sampling parameters dropped under thinking, the top-level extras).
func TestClaudeCodeRoundTrip(t *testing.T) {
	body, _ := os.ReadFile("testdata/decode_claude_code.json")
	req, err := DecodeRequest(body)
	if err != nil {
		t.Fatal(err)
	}
	out, err := EncodeRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	var got, orig map[string]json.RawMessage
	json.Unmarshal(out, &got)
	json.Unmarshal(body, &orig)
	for _, k := range []string{"model", "max_tokens", "system", "tools", "thinking", "metadata", "stream"} {
		if k == "tools" {
			// cache_control on tool definitions has no canonical field.
			continue
		}
		if compact(t, got[k]) != compact(t, orig[k]) {
			t.Errorf("%s: got %s, want %s", k, compact(t, got[k]), compact(t, orig[k]))
		}
	}
	wantMessages := `[{"role":"user","content":[{"type":"text","text":"List files and read go.mod","cache_control":{"type":"ephemeral","ttl":"5m"}}]},` +
		`{"role":"assistant","content":[{"type":"thinking","thinking":"Two independent calls.","signature":"EqQBCkYIBxgCKkB"},{"type":"text","text":"I'll do both."},` +
		`{"type":"tool_use","id":"toolu_01A","name":"Bash","input":{"command":"ls","description":"List files"}},{"type":"tool_use","id":"toolu_01B","name":"Read","input":{"file_path":"/repo/go.mod"}}]},` +
		`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01B","content":"module x"},{"type":"tool_result","tool_use_id":"toolu_01A","content":"permission denied","is_error":true},{"type":"text","text":"(also: be quick)"}]}]`
	if g := compact(t, got["messages"]); g != wantMessages {
		t.Errorf("messages\n%s\nwant\n%s", g, wantMessages)
	}
	if compact(t, got["tool_choice"]) != `{"type":"auto","disable_parallel_tool_use":true}` {
		t.Errorf("tool_choice %s", got["tool_choice"])
	}
	if _, ok := got["temperature"]; ok {
		t.Error("temperature sent with thinking on")
	}
}
