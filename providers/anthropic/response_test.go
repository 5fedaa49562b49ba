package anthropic

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

func TestDecodeResponseGolden(t *testing.T) {
	body, err := os.ReadFile("testdata/response_tools.json")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := DecodeResponse(body)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "response_tools", dump(t, resp))

	c := resp.Choices[0]
	if c.FinishReason != providers.FinishToolCalls || len(c.Message.ToolCalls) != 2 {
		t.Fatalf("finish %q, %d tool calls (the server tool must not count)", c.FinishReason, len(c.Message.ToolCalls))
	}
	if got := c.Message.ToolCalls[0].Arguments; got != `{"location":"Paris","unit":"c"}` {
		t.Errorf("arguments = %s, want compact JSON", got)
	}
	if c.Message.Reasoning != "The user wants two cities." || c.Message.ReasoningSignature != "EuYBCkQYAiJA" {
		t.Errorf("reasoning = %q / %q", c.Message.Reasoning, c.Message.ReasoningSignature)
	}
	want := providers.Usage{InputTokens: 2121, OutputTokens: 120, CachedTokens: 2000, CacheCreationTokens: 100}
	if resp.Usage != want {
		t.Errorf("usage = %+v, want %+v", resp.Usage, want)
	}
}

func TestFinishReasonMapping(t *testing.T) {
	tests := []struct{ stop, want string }{
		{"end_turn", "stop"}, {"stop_sequence", "stop"}, {"pause_turn", "stop"},
		{"max_tokens", "length"}, {"model_context_window_exceeded", "length"},
		{"tool_use", "tool_calls"}, {"refusal", "content_filter"}, {"", "stop"},
	}
	for _, tt := range tests {
		body := `{"type":"message","content":[],"stop_reason":"` + tt.stop + `","usage":{"input_tokens":1,"output_tokens":1}}`
		resp, err := DecodeResponse([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.Choices[0].FinishReason; got != tt.want {
			t.Errorf("stop_reason %q → %q, want %q", tt.stop, got, tt.want)
		}
	}
}

func TestDecodeResponseErrors(t *testing.T) {
	_, err := DecodeResponse([]byte(`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`))
	var e *providers.Error
	if !errors.As(err, &e) || e.Status() != 529 || e.Type != "overloaded_error" || e.Message != "Overloaded" {
		t.Errorf("error body → %+v", err)
	}
	_, err = DecodeResponse([]byte(`<html>`))
	if !errors.As(err, &e) || e.Status() != http.StatusBadGateway || !strings.Contains(e.Message, "invalid answer") {
		t.Errorf("garbage → %+v", err)
	}
}

func TestDecodeError(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter string
		body       string
		wantKind   providers.ErrorKind
		wantType   string
		wantMsg    string
	}{
		{"rate limit", 429, "17", `{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"},"request_id":"req_1"}`,
			providers.KindRateLimited, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"},
		{"overloaded", 529, "", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`, providers.KindUpstream, "overloaded_error", "Overloaded"},
		{"bad key", 401, "", `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`, providers.KindAuth, "authentication_error", "invalid x-api-key"},
		{"plain text", 502, "", "Bad Gateway\n", providers.KindUpstream, "", "upstream returned HTTP 502: Bad Gateway"},
		{"html", 503, "", "<html><body>down</body></html>", providers.KindUpstream, "", "upstream returned HTTP 503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := DecodeError(tt.status, tt.retryAfter, []byte(tt.body))
			if e.Status() != tt.status || e.Kind != tt.wantKind || e.Type != tt.wantType || e.Message != tt.wantMsg || e.RetryAfter != tt.retryAfter {
				t.Errorf("got %+v", e)
			}
		})
	}
}

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

func TestEncodeError(t *testing.T) {
	tests := []struct {
		err  *providers.Error
		want string
	}{
		{&providers.Error{Kind: providers.KindBadRequest, Message: "max_tokens: Field required"}, `{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: Field required"}}`},
		{&providers.Error{Kind: providers.KindAuth, Message: "invalid key"}, `{"type":"error","error":{"type":"authentication_error","message":"invalid key"}}`},
		{&providers.Error{Kind: providers.KindPermission, Message: "model not allowed"}, `{"type":"error","error":{"type":"permission_error","message":"model not allowed"}}`},
		{&providers.Error{Kind: providers.KindNotFound, Message: "no such model"}, `{"type":"error","error":{"type":"not_found_error","message":"no such model"}}`},
		{&providers.Error{Kind: providers.KindTooLarge, Message: "too big"}, `{"type":"error","error":{"type":"request_too_large","message":"too big"}}`},
		{&providers.Error{Kind: providers.KindRateLimited, Message: "slow down"}, `{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}`},
		{&providers.Error{Kind: providers.KindInternal}, `{"type":"error","error":{"type":"api_error","message":"Internal Server Error"}}`},
		{&providers.Error{Kind: providers.KindUnavailable, Message: "upstream unreachable"}, `{"type":"error","error":{"type":"api_error","message":"upstream unreachable"}}`},
		{&providers.Error{Kind: providers.KindTimeout, Message: "upstream timed out"}, `{"type":"error","error":{"type":"timeout_error","message":"upstream timed out"}}`},
		{&providers.Error{Kind: providers.KindUpstream, HTTPStatus: 529, Message: "Overloaded"}, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`},
		{&providers.Error{Kind: providers.KindUpstream, HTTPStatus: 402, Type: "billing_error", Message: "pay"}, `{"type":"error","error":{"type":"billing_error","message":"pay"}}`},
		{&providers.Error{Kind: providers.KindUpstream, HTTPStatus: 409, Message: "conflict \"x\""}, `{"type":"error","error":{"type":"invalid_request_error","message":"conflict \"x\""}}`},
	}
	for _, tt := range tests {
		if got := string(EncodeError(tt.err)); got != tt.want {
			t.Errorf("%+v\n got  %s\n want %s", tt.err, got, tt.want)
		}
	}
	got := string(EncodeStreamError([]byte("x"), &providers.Error{Kind: providers.KindUpstream, HTTPStatus: 529, Message: "Overloaded"}))
	if want := "xevent: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"; got != want {
		t.Errorf("stream error = %q, want %q", got, want)
	}
}
