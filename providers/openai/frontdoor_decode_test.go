package openai

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

func TestDecodeRequest(t *testing.T) {
	body := `{
	  "model": "gpt-4o",
	  "messages": [
	    {"role": "developer", "content": "Be terse."},
	    {"role": "system", "content": [{"type": "text", "text": "Sys "}, {"type": "text", "text": "two"}]},
	    {"role": "user", "name": "ann", "content": [
	      {"type": "text", "text": "What is this?"},
	      {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "low"}},
	      {"type": "image_url", "image_url": "https://example.com/cat.jpg"}
	    ]},
	    {"role": "assistant", "content": "", "reasoning_content": "thinking...", "tool_calls": [
	      {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
	      {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}
	    ]},
	    {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
	    {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "noon"}]},
	    {"role": "assistant", "content": null, "refusal": "I can't."}
	  ],
	  "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {"type":"object"}, "strict": true}}],
	  "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
	  "parallel_tool_calls": false,
	  "response_format": {"type": "json_schema", "json_schema": {"name": "w", "schema": {"type":"object"}, "strict": true}},
	  "stop": "END",
	  "max_tokens": 100,
	  "max_completion_tokens": 200,
	  "temperature": 0,
	  "top_p": 0.5,
	  "presence_penalty": 0.1,
	  "frequency_penalty": -0.1,
	  "seed": 42,
	  "n": 2,
	  "stream": true,
	  "stream_options": {"include_usage": true},
	  "reasoning_effort": "low",
	  "user": "u-1",
	  "logprobs": true,
	  "x_custom": {"a": [1]}
	}`
	got, err := DecodeRequest([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := &providers.Request{
		Model: "gpt-4o",
		Messages: []providers.Message{
			{Role: "system", Content: []providers.Part{providers.TextPart("Be terse.")}},
			{Role: "system", Content: []providers.Part{providers.TextPart("Sys "), providers.TextPart("two")}},
			{Role: "user", Name: "ann", Content: []providers.Part{
				providers.TextPart("What is this?"),
				{Type: providers.PartImage, URL: "data:image/png;base64,AAAA", MIMEType: "image/png", Detail: "low"},
				{Type: providers.PartImage, URL: "https://example.com/cat.jpg"},
			}},
			{Role: "assistant", Reasoning: "thinking...", ToolCalls: []providers.ToolCall{
				{ID: "call_1", Name: "get_weather", Arguments: `{"city":"Paris"}`},
				{ID: "call_2", Name: "get_time", Arguments: `{}`},
			}},
			{Role: "tool", ToolCallID: "call_1", ToolName: "get_weather", Content: []providers.Part{providers.TextPart("18C")}},
			{Role: "tool", ToolCallID: "call_2", ToolName: "get_time", Content: []providers.Part{providers.TextPart("noon")}},
			{Role: "assistant", Content: []providers.Part{providers.TextPart("I can't.")}},
		},
		Tools: []providers.Tool{{Name: "get_weather", Description: "Weather", Parameters: json.RawMessage(`{"type":"object"}`),
			Strict: ptr(true)}},
		ToolChoice:        &providers.ToolChoice{Mode: providers.ToolChoiceTool, Name: "get_weather"},
		ParallelToolCalls: ptr(false),
		ResponseFormat: &providers.ResponseFormat{Type: "json_schema", Name: "w", Schema: json.RawMessage(`{"type":"object"}`),
			Strict: ptr(true)},
		Stop:             []string{"END"},
		MaxTokens:        200,
		Temperature:      ptr(0.0),
		TopP:             ptr(0.5),
		PresencePenalty:  ptr(0.1),
		FrequencyPenalty: ptr(-0.1),
		Seed:             ptr(int64(42)),
		N:                2,
		Stream:           true,
		IncludeUsage:     true,
		ReasoningEffort:  "low",
		User:             "u-1",
		Extra:            map[string]json.RawMessage{"logprobs": json.RawMessage(`true`), "x_custom": json.RawMessage(`{"a": [1]}`)},
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Fatalf("got\n%s\nwant\n%s", g, w)
	}
}

func TestDecodeRequestVariants(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, r *providers.Request)
	}{
		{"stop as array", `{"messages":[{"role":"user","content":"x"}],"stop":["a","b"]}`, func(t *testing.T, r *providers.Request) {
			if !reflect.DeepEqual(r.Stop, []string{"a", "b"}) {
				t.Fatalf("stop = %q", r.Stop)
			}
		}},
		{"max_tokens alone", `{"messages":[{"role":"user","content":"x"}],"max_tokens":77}`, func(t *testing.T, r *providers.Request) {
			if r.MaxTokens != 77 {
				t.Fatalf("MaxTokens = %d", r.MaxTokens)
			}
		}},
		{"tool_choice strings", `{"messages":[{"role":"user","content":"x"}],"tool_choice":"required"}`, func(t *testing.T, r *providers.Request) {
			if r.ToolChoice == nil || r.ToolChoice.Mode != "required" {
				t.Fatalf("tool choice = %+v", r.ToolChoice)
			}
		}},
		{"nulls are absent", `{"messages":[{"role":"user","content":"x"}],"temperature":null,"stop":null,"tool_choice":null,"n":null,"stream_options":null}`,
			func(t *testing.T, r *providers.Request) {
				if r.Temperature != nil || r.Stop != nil || r.ToolChoice != nil || r.N != 0 || r.IncludeUsage {
					t.Fatalf("nulls decoded as values: %+v", r)
				}
			}},
		{"empty assistant content with tool calls has no parts", `{"messages":[{"role":"assistant","content":"","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]}]}`,
			func(t *testing.T, r *providers.Request) {
				if len(r.Messages[0].Content) != 0 || len(r.Messages[0].ToolCalls) != 1 {
					t.Fatalf("message = %+v", r.Messages[0])
				}
			}},
		{"json_object format", `{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}}`,
			func(t *testing.T, r *providers.Request) {
				if r.ResponseFormat == nil || r.ResponseFormat.Type != "json_object" {
					t.Fatalf("format = %+v", r.ResponseFormat)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := DecodeRequest([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, r)
		})
	}
}

func TestDecodeRequestErrors(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"truncated JSON", `{"model":"m","messages":[`, "invalid JSON body: unexpected end of JSON input"},
		{"syntax", `{"model":"m",}`, "invalid JSON body: invalid character '}'"},
		{"not an object", `[]`, "must be a JSON object"},
		{"model not a string", `{"model":5,"messages":[{"role":"user","content":"x"}]}`, `invalid "model"`},
		{"messages missing", `{"model":"m"}`, `"messages" is required`},
		{"messages empty", `{"messages":[]}`, "at least one message"},
		{"messages wrong type", `{"messages":"hi"}`, `invalid "messages"`},
		{"content wrong type", `{"messages":[{"role":"user","content":5}]}`, "messages[0].content must be a string or an array"},
		{"unknown role", `{"messages":[{"role":"robot","content":"x"}]}`, `role "robot" is not supported`},
		{"missing role", `{"messages":[{"content":"x"}]}`, "role is required"},
		{"audio part", `{"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]}`, `content part type "input_audio" is not supported`},
		{"image without url", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]}`, "image_url.url is required"},
		{"temperature string", `{"messages":[{"role":"user","content":"x"}],"temperature":"hot"}`, `invalid "temperature"`},
		{"stream string", `{"messages":[{"role":"user","content":"x"}],"stream":"yes"}`, `invalid "stream"`},
		{"bad tool_choice", `{"messages":[{"role":"user","content":"x"}],"tool_choice":"sometimes"}`, `"sometimes" is not one of`},
		{"custom tool", `{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"custom","custom":{}}]}`, `tool type "custom" is not supported`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeRequest([]byte(tt.body))
			var e *providers.Error
			if !errors.As(err, &e) || e.Kind != providers.KindBadRequest || e.Status() != 400 {
				t.Fatalf("err = %v, want a 400 *providers.Error", err)
			}
			if !strings.Contains(e.Message, tt.want) {
				t.Fatalf("message %q does not contain %q", e.Message, tt.want)
			}
			if strings.Contains(e.Message, "Go value") || strings.Contains(e.Message, "openai.") {
				t.Fatalf("message leaks Go internals: %q", e.Message)
			}
		})
	}
}
