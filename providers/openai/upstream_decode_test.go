package openai

import (
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

func TestEncodeResponse(t *testing.T) {
	tests := []struct {
		name string
		resp *providers.Response
		want string
	}{
		{
			name: "text answer",
			resp: &providers.Response{ID: "chatcmpl-1", Model: "gpt-4o", Created: 1700000000, Choices: []providers.Choice{
				{Message: providers.Message{Role: "assistant", Content: []providers.Part{providers.TextPart("Hello \"you\"")}},
					FinishReason: "stop"}},
				Usage: providers.Usage{InputTokens: 9, OutputTokens: 5, CachedTokens: 3, ReasoningTokens: 2}},
			want: `{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Hello \"you\"","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":5,"total_tokens":14,"prompt_tokens_details":{"cached_tokens":3},"completion_tokens_details":{"reasoning_tokens":2}}}`,
		},
		{
			name: "tool calls with null content, reasoning, generated id and default finish",
			resp: &providers.Response{ID: "msg_1", Model: "claude", Created: 1, Choices: []providers.Choice{
				{Message: providers.Message{Role: "assistant", Reasoning: "let me think", ToolCalls: []providers.ToolCall{
					{ID: "toolu_1", Name: "get_weather", Arguments: `{"location":"Paris"}`},
					{Name: "noargs"},
				}}}}},
			want: `{"id":"msg_1","object":"chat.completion","created":1,"model":"claude","choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":null,"reasoning_content":"let me think","tool_calls":[{"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris\"}"}},{"id":"` + generatedToolCallID("msg_1", 0, 1) + `","type":"function","function":{"name":"noargs","arguments":"{}"}}]},"logprobs":null,"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := EncodeResponse(tt.resp)
			if string(got) != tt.want {
				t.Fatalf("\n got %s\nwant %s", got, tt.want)
			}
			// The SDK-facing shape: DecodeResponse reads back what EncodeResponse wrote.
			back, err := DecodeResponse(got)
			if err != nil {
				t.Fatal(err)
			}
			if back.Choices[0].Message.Text() != tt.resp.Choices[0].Message.Text() ||
				back.Choices[0].Message.Reasoning != tt.resp.Choices[0].Message.Reasoning ||
				len(back.Choices[0].Message.ToolCalls) != len(tt.resp.Choices[0].Message.ToolCalls) ||
				back.Usage != tt.resp.Usage {
				t.Fatalf("round trip: %+v", back)
			}
		})
	}
}

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

func TestEncodeError(t *testing.T) {
	tests := []struct {
		name string
		err  *providers.Error
		want string
	}{
		{"bad request", providers.Errorf(providers.KindBadRequest, "invalid JSON body: x"),
			`{"error":{"message":"invalid JSON body: x","type":"invalid_request_error","param":null,"code":null}}`},
		{"auth", &providers.Error{Kind: providers.KindAuth, Message: "Invalid API key."},
			`{"error":{"message":"Invalid API key.","type":"authentication_error","param":null,"code":null}}`},
		{"model not allowed", &providers.Error{Kind: providers.KindPermission, Message: "model x is not allowed", Code: "model_not_allowed", Param: "model"},
			`{"error":{"message":"model x is not allowed","type":"permission_error","param":"model","code":"model_not_allowed"}}`},
		{"not found", &providers.Error{Kind: providers.KindNotFound, Message: "no such model"},
			`{"error":{"message":"no such model","type":"invalid_request_error","param":null,"code":null}}`},
		{"rate limited", &providers.Error{Kind: providers.KindRateLimited, Message: "slow down"},
			`{"error":{"message":"slow down","type":"rate_limit_error","param":null,"code":null}}`},
		{"upstream type and code kept", providers.UpstreamError("mistral", 400, "Unexpected role", "invalid_request_message_order", "3230", ""),
			`{"error":{"message":"Unexpected role","type":"invalid_request_message_order","param":null,"code":"3230"}}`},
		{"timeout", &providers.Error{Kind: providers.KindTimeout, Message: "upstream timed out"},
			`{"error":{"message":"upstream timed out","type":"server_error","param":null,"code":"upstream_timeout"}}`},
		{"unreachable", &providers.Error{Kind: providers.KindUnavailable, Message: "upstream unreachable"},
			`{"error":{"message":"upstream unreachable","type":"server_error","param":null,"code":"upstream_unavailable"}}`},
		{"empty message gets the status text", &providers.Error{Kind: providers.KindInternal},
			`{"error":{"message":"Internal Server Error","type":"server_error","param":null,"code":null}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(EncodeError(tt.err)); got != tt.want {
				t.Fatalf("\n got %s\nwant %s", got, tt.want)
			}
			if got, want := string(EncodeStreamError([]byte("x"), tt.err)), "xdata: "+tt.want+"\n\n"; got != want {
				t.Fatalf("stream error\n got %q\nwant %q", got, want)
			}
		})
	}
}

func TestEncodeStreamErrorIsReadAsAnError(t *testing.T) {
	// What the OpenAI front door writes mid-stream is what the decoder (like the SDKs) raises.
	sse := "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":null}]}\n\n"
	sse = string(EncodeStreamError([]byte(sse), &providers.Error{Kind: providers.KindUpstream, Message: "upstream exploded"}))
	s := DecodeStream(io.NopCloser(strings.NewReader(sse)))
	var err error
	for err == nil {
		_, err = s.Next()
	}
	var e *providers.Error
	if !errors.As(err, &e) || e.Message != "upstream exploded" || e.Type != "server_error" {
		t.Fatalf("err = %#v", err)
	}
}

func TestEncodeErrorIsValidJSON(t *testing.T) {
	b := EncodeError(&providers.Error{Kind: providers.KindBadRequest, Message: "bad \x00 \"quote\" \u2028"})
	var v struct {
		Error map[string]any `json:"error"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"message", "type", "param", "code"} {
		if _, ok := v.Error[k]; !ok {
			t.Fatalf("key %q missing in %s", k, b)
		}
	}
}
