package anthropic

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

// assistantAnswer has reasoning, text and parallel tool calls, as an OpenAI or Gemini
// translator produces it.
func assistantAnswer() *providers.Response {
	return &providers.Response{
		ID:    "chatcmpl-abc",
		Model: "gpt-4.1",
		Choices: []providers.Choice{{Message: providers.Message{
			Role:               providers.RoleAssistant,
			Reasoning:          "Both cities needed.",
			ReasoningSignature: "sig-1",
			Content:            []providers.Part{providers.TextPart("Checking "), providers.TextPart("<both> & more.")},
			ToolCalls: []providers.ToolCall{
				{ID: "call_1", Name: "get_weather", Arguments: `{"location": "Paris"}`},
				{ID: "", Name: "get_weather", Arguments: `{"location":"Ro`},
			},
		}, FinishReason: providers.FinishToolCalls}},
		Usage: providers.Usage{InputTokens: 2121, OutputTokens: 120, CachedTokens: 2000, CacheCreationTokens: 100, CacheCreation1hTokens: 40, ReasoningTokens: 50},
	}
}

func TestEncodeResponseGolden(t *testing.T) {
	b := EncodeResponse(assistantAnswer())
	golden(t, "encode_response", indentJSON(t, b))

	var m struct {
		ID      string `json:"id"`
		Content []struct {
			Type  string          `json:"type"`
			ID    string          `json:"id"`
			Text  string          `json:"text"`
			Input json.RawMessage `json:"input"`
		} `json:"content"`
		StopReason   string  `json:"stop_reason"`
		StopSequence *string `json:"stop_sequence"`
		Usage        map[string]json.RawMessage
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	types := []string{}
	for _, c := range m.Content {
		types = append(types, c.Type)
	}
	if got := strings.Join(types, ","); got != "thinking,text,tool_use,tool_use" || m.ID != "msg_chatcmpl-abc" {
		t.Fatalf("blocks %s id %s", got, m.ID)
	}
	if m.Content[1].Text != "Checking <both> & more." || string(m.Content[2].Input) != `{"location":"Paris"}` || string(m.Content[3].Input) != `{}` {
		t.Errorf("content = %+v", m.Content)
	}
	if m.Content[3].ID != "toolu_chatcmpl-abc_1" {
		t.Errorf("made-up tool id %q", m.Content[3].ID)
	}
	want := map[string]string{"input_tokens": "21", "cache_creation_input_tokens": "100", "cache_read_input_tokens": "2000",
		"cache_creation": `{"ephemeral_5m_input_tokens":60,"ephemeral_1h_input_tokens":40}`, "output_tokens": "120"}
	for k, v := range want {
		if string(m.Usage[k]) != v {
			t.Errorf("usage %s = %s, want %s", k, m.Usage[k], v)
		}
	}
	if m.StopReason != "tool_use" || m.StopSequence != nil {
		t.Errorf("stop_reason %q stop_sequence %v", m.StopReason, m.StopSequence)
	}
}

func TestEncodeResponseStopReasons(t *testing.T) {
	tests := []struct {
		finish string
		tools  bool
		want   string
	}{
		{providers.FinishStop, false, "end_turn"},
		{providers.FinishStop, true, "tool_use"},
		{providers.FinishLength, false, "max_tokens"},
		{providers.FinishToolCalls, true, "tool_use"},
		{providers.FinishContentFilter, false, "refusal"},
		{"", false, "end_turn"},
	}
	for _, tt := range tests {
		msg := providers.Message{Role: providers.RoleAssistant, Content: []providers.Part{providers.TextPart("x")}}
		if tt.tools {
			msg.ToolCalls = []providers.ToolCall{{ID: "c", Name: "f", Arguments: "{}"}}
		}
		b := EncodeResponse(&providers.Response{ID: "msg_1", Choices: []providers.Choice{{Message: msg, FinishReason: tt.finish}}})
		if !strings.Contains(string(b), `"stop_reason":"`+tt.want+`"`) {
			t.Errorf("%q (tools %v) → %s, want %s", tt.finish, tt.tools, b, tt.want)
		}
	}
	// No choices at all is still a valid, empty Message.
	b := EncodeResponse(&providers.Response{ID: "msg_2", Model: "m"})
	if got, want := string(b), `{"id":"msg_2","type":"message","role":"assistant","model":"m","content":[],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":0}}`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// An empty id gets a random msg_ id.
	var m struct{ ID string }
	json.Unmarshal(EncodeResponse(&providers.Response{}), &m)
	if !strings.HasPrefix(m.ID, "msg_") || len(m.ID) != 28 {
		t.Errorf("random id %q", m.ID)
	}
}
