package openai

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

// canonicalConversation exercises every part of EncodeRequest.
func canonicalConversation() *providers.Request {
	return &providers.Request{
		Model: "claude-sonnet",
		Messages: []providers.Message{
			{Role: "system", Content: []providers.Part{providers.TextPart("Injected prompt")}},
			{Role: "system", Content: []providers.Part{providers.TextPart("Client system <b>&</b>")}},
			{Role: "user", Content: []providers.Part{providers.TextPart("Weather in Paris and Rome?")}},
			{Role: "assistant", Reasoning: "need two calls", ReasoningSignature: "sig", ToolCalls: []providers.ToolCall{
				{ID: "toolu_01", Name: "get_weather", Arguments: `{"city":"Paris"}`},
				{ID: "toolu_02", Name: "get_weather"},
			}},
			{Role: "tool", ToolCallID: "toolu_01", ToolName: "get_weather", Content: []providers.Part{
				providers.TextPart("18C"), {Type: providers.PartImage, URL: "data:image/png;base64,AAAA", MIMEType: "image/png"}}},
			{Role: "tool", ToolCallID: "toolu_02", ToolName: "get_weather", IsError: true, Content: []providers.Part{providers.TextPart("timeout")}},
			{Role: "user", Content: []providers.Part{providers.TextPart("And this?"),
				{Type: providers.PartImage, URL: "https://example.com/a.png", Detail: "high"}}},
		},
		Tools: []providers.Tool{{Name: "get_weather", Description: "Get weather",
			Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}}}`)}},
		ToolChoice:      &providers.ToolChoice{Mode: providers.ToolChoiceTool, Name: "get_weather"},
		MaxTokens:       1024,
		Temperature:     ptr(0.0),
		TopK:            ptr(40),
		Stop:            []string{"\n\nHuman:"},
		ResponseFormat:  &providers.ResponseFormat{Type: "json_schema", Schema: json.RawMessage(`{"type":"object"}`)},
		ReasoningEffort: "high",
		Stream:          true,
		User:            "user-7",
		Extra: map[string]json.RawMessage{
			"thinking":     json.RawMessage(`{"type":"enabled","budget_tokens":2048}`), // Anthropic's: dropped
			"logit_bias":   json.RawMessage(`{"50256":-100}`),                          // OpenAI's: kept
			"service_tier": json.RawMessage(`"standard_only"`),                         // ambiguous: dropped
		},
	}
}

func TestEncodeRequestGolden(t *testing.T) {
	got, err := EncodeRequest(canonicalConversation())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "encode_request.json", got)
}

func TestEncodeRequestRoundTrip(t *testing.T) {
	// OpenAI → canonical → OpenAI keeps what OpenAI can express.
	body := `{"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"https://x/y.png","detail":"low"}}]},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},{"role":"tool","content":"ok","tool_call_id":"c1"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"tool_choice":"auto","max_tokens":10,"temperature":0,"stop":["x"],"response_format":{"type":"json_object"},"stream":true,"stream_options":{"include_usage":true}}`
	req, err := DecodeRequest([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	enc, err := EncodeRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	if err := json.Unmarshal([]byte(body), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(enc, &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("round trip changed the request:\n in %s\nout %s", body, enc)
	}
}

func TestEncodeRequestErrors(t *testing.T) {
	for name, req := range map[string]*providers.Request{
		"bad schema":    {Model: "m", Tools: []providers.Tool{{Name: "f", Parameters: json.RawMessage(`{nope`)}}},
		"unknown part":  {Model: "m", Messages: []providers.Message{{Role: "user", Content: []providers.Part{{Type: "audio"}}}}},
		"unknown role":  {Model: "m", Messages: []providers.Message{{Role: "narrator"}}},
		"bad rf schema": {Model: "m", ResponseFormat: &providers.ResponseFormat{Type: "json_schema", Schema: json.RawMessage(`[`)}},
	} {
		_, err := EncodeRequest(req)
		var e *providers.Error
		if !errors.As(err, &e) || e.Kind != providers.KindBadRequest {
			t.Errorf("%s: err = %v, want KindBadRequest", name, err)
		}
	}
}
