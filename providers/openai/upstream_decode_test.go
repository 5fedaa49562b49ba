package openai

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

func TestDecodeResponse(t *testing.T) {
	tests := []struct {
		name string
		body string
		want *providers.Response
	}{
		{
			name: "OpenAI with cached and reasoning tokens",
			body: `{"id":"chatcmpl-123","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hello","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":5,"total_tokens":14,"prompt_tokens_details":{"cached_tokens":4,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":2,"audio_tokens":0}},"system_fingerprint":"fp_x"}`,
			want: &providers.Response{ID: "chatcmpl-123", Model: "gpt-4o-mini", Created: 1700000000,
				Choices: []providers.Choice{{Message: providers.Message{Role: "assistant", Content: []providers.Part{providers.TextPart("Hello")}}, FinishReason: "stop"}},
				Usage:   providers.Usage{InputTokens: 9, OutputTokens: 5, CachedTokens: 4, ReasoningTokens: 2}},
		},
		{
			name: "xAI counts reasoning outside completion_tokens",
			body: `{"id":"x","model":"grok-3-mini","choices":[{"index":0,"message":{"role":"assistant","content":"4","reasoning_content":"2+2"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":1,"total_tokens":311,"completion_tokens_details":{"reasoning_tokens":300}}}`,
			want: &providers.Response{ID: "x", Model: "grok-3-mini",
				Choices: []providers.Choice{{Message: providers.Message{Role: "assistant", Content: []providers.Part{providers.TextPart("4")}, Reasoning: "2+2"}, FinishReason: "stop"}},
				Usage:   providers.Usage{InputTokens: 10, OutputTokens: 301, ReasoningTokens: 300}},
		},
		{
			name: "stop next to tool calls becomes tool_calls; object arguments kept as JSON text",
			body: `{"id":"o","model":"llama","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_0","type":"function","function":{"name":"f","arguments":{"a":1}}}]},"finish_reason":"stop"}]}`,
			want: &providers.Response{ID: "o", Model: "llama",
				Choices: []providers.Choice{{Message: providers.Message{Role: "assistant", ToolCalls: []providers.ToolCall{{ID: "call_0", Name: "f", Arguments: `{"a":1}`}}}, FinishReason: "tool_calls"}}},
		},
		{
			name: "refusal stands in for content; Mistral model_length",
			body: `{"id":"r","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"No."},"finish_reason":"model_length"}]}`,
			want: &providers.Response{ID: "r", Model: "m",
				Choices: []providers.Choice{{Message: providers.Message{Role: "assistant", Content: []providers.Part{providers.TextPart("No.")}}, FinishReason: "length"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeResponse([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeResponseErrors(t *testing.T) {
	_, err := DecodeResponse([]byte(`{"id":`))
	var e *providers.Error
	if !errors.As(err, &e) || e.Kind != providers.KindUpstream || !strings.Contains(e.Message, "malformed") {
		t.Fatalf("malformed: %v", err)
	}
	_, err = DecodeResponse([]byte(`{"error":{"message":"quota exceeded","type":"insufficient_quota","code":"insufficient_quota"}}`))
	if !errors.As(err, &e) || e.Message != "quota exceeded" || e.Type != "insufficient_quota" {
		t.Fatalf("error envelope: %#v", err)
	}
}
