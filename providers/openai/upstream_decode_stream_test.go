package openai

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/aigateway/ai-gateway/providers"
)

// drain reads a stream to its end.
func drain(s providers.Stream) ([]providers.StreamEvent, error) {
	var out []providers.StreamEvent
	for {
		ev, err := s.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		if ev.Usage != nil {
			u := *ev.Usage
			ev.Usage = &u
		}
		out = append(out, ev)
	}
}

func decodeString(sse string) ([]providers.StreamEvent, error) {
	return drain(DecodeStream(io.NopCloser(strings.NewReader(sse))))
}

func usage(in, out int) *providers.Usage { return &providers.Usage{InputTokens: in, OutputTokens: out} }

// toolStream is an Anthropic-like event sequence: reasoning, text, two parallel tool calls with
// argument fragments, usage before the finish, then a second (final) usage.
func toolStream() []providers.StreamEvent {
	return []providers.StreamEvent{
		{Kind: providers.EventStart, ID: "msg_01", Model: "claude-sonnet"},
		{Kind: providers.EventReasoning, Text: "Two cities."},
		{Kind: providers.EventReasoning, Signature: "sig-only, nothing to show"},
		{Kind: providers.EventText, Text: "Checking "},
		{Kind: providers.EventText, Text: ""},
		{Kind: providers.EventToolCall, ToolIndex: 0, ToolID: "toolu_A", ToolName: "get_weather"},
		{Kind: providers.EventToolArgs, ToolIndex: 0, Args: `{"loca`},
		{Kind: providers.EventToolCall, ToolIndex: 1, ToolID: "toolu_B", ToolName: "get_weather", Args: `{"location":`},
		{Kind: providers.EventToolArgs, ToolIndex: 0, Args: `tion":"Paris"}`},
		{Kind: providers.EventToolArgs, ToolIndex: 1, Args: `"Rome"}`},
		{Kind: providers.EventUsage, Usage: usage(20, 1)},
		{Kind: providers.EventFinish, FinishReason: "tool_calls"},
		{Kind: providers.EventFinish, FinishReason: "stop"}, // repeated: ignored
		{Kind: providers.EventUsage, Usage: &providers.Usage{InputTokens: 20, OutputTokens: 30, CachedTokens: 5}},
	}
}

const parallelToolsSSE = `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","system_fingerprint":"fp","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null}

: keepalive

data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_A","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_B","type":"function","function":{"name":"get_time","arguments":""}}]},"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"tz\":"}}]},"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"location\":\"Paris\"}"}}]},"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"\"CET\"}"}}]},"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}],"usage":null}

data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":5,"total_tokens":14,"prompt_tokens_details":{"cached_tokens":2}}}

data: [DONE]

`

func TestDecodeStream(t *testing.T) {
	start := providers.StreamEvent{Kind: providers.EventStart, ID: "chatcmpl-1", Model: "gpt-4o"}
	parallel := []providers.StreamEvent{
		start,
		{Kind: providers.EventToolCall, ToolIndex: 0, ToolID: "call_A", ToolName: "get_weather"},
		{Kind: providers.EventToolCall, ToolIndex: 1, ToolID: "call_B", ToolName: "get_time"},
		{Kind: providers.EventToolArgs, ToolIndex: 1, Args: `{"tz":`},
		{Kind: providers.EventToolArgs, ToolIndex: 0, Args: `{"location":"Paris"}`},
		{Kind: providers.EventToolArgs, ToolIndex: 1, Args: `"CET"}`},
		{Kind: providers.EventFinish, FinishReason: "tool_calls"},
		{Kind: providers.EventUsage, Usage: &providers.Usage{InputTokens: 9, OutputTokens: 5, CachedTokens: 2}},
	}
	tests := []struct {
		name string
		sse  string
		want []providers.StreamEvent
	}{
		{"parallel tool calls, keepalive comment, usage chunk", parallelToolsSSE, parallel},
		{"CRLF framing", strings.ReplaceAll(parallelToolsSSE, "\n", "\r\n"), parallel},
		{"missing [DONE] after the finish", strings.TrimSuffix(parallelToolsSSE, "data: [DONE]\n\n"), parallel},
		{
			name: "text, reasoning (both spellings), refusal, finish and usage in one chunk",
			sse: `data: {"id":"c","model":"m","choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":"hmm"}}]}

data: {"id":"c","model":"m","choices":[{"index":0,"delta":{"reasoning":"more"}}]}

data: {"id":"c","model":"m","choices":[{"index":0,"delta":{"content":"Hi"}}]}

data: {"id":"c","model":"m","choices":[{"index":0,"delta":{"refusal":"no"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}

`,
			want: []providers.StreamEvent{
				{Kind: providers.EventStart, ID: "c", Model: "m"},
				{Kind: providers.EventReasoning, Text: "hmm"},
				{Kind: providers.EventReasoning, Text: "more"},
				{Kind: providers.EventText, Text: "Hi"},
				{Kind: providers.EventText, Text: "no"},
				{Kind: providers.EventFinish, FinishReason: "stop"},
				{Kind: providers.EventUsage, Usage: usage(1, 2)},
			},
		},
		{
			name: "Azure's leading prompt-filter chunk is skipped",
			sse: `data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}]}

data: {"id":"c","model":"gpt-4o","choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop","content_filter_results":{"error":{"code":"x","message":"filter down"}}}]}

data: [DONE]
`,
			want: []providers.StreamEvent{
				{Kind: providers.EventStart, ID: "c", Model: "gpt-4o"},
				{Kind: providers.EventText, Text: "ok"},
				{Kind: providers.EventFinish, FinishReason: "stop"},
			},
		},
		{
			name: "every call at index 0 with distinct ids (some servers) become separate calls; stop becomes tool_calls",
			sse: `data: {"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":"{}"}}]}}]}

data: {"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"b","function":{"name":"g","arguments":"{\"x\":1}"}}]}}]}

data: {"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}

`,
			want: []providers.StreamEvent{
				{Kind: providers.EventStart, ID: "c"},
				{Kind: providers.EventToolCall, ToolIndex: 0, ToolID: "a", ToolName: "f", Args: "{}"},
				{Kind: providers.EventToolCall, ToolIndex: 1, ToolID: "b", ToolName: "g", Args: `{"x":1}`},
				{Kind: providers.EventFinish, FinishReason: "tool_calls"},
			},
		},
		{
			name: "calls without index: id starts a call, no id continues the last",
			sse: `data: {"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"id":"a","function":{"name":"f","arguments":"{\"a\""}}]}}]}

data: {"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"function":{"arguments":":1}"}}]}}]}

data: {"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}

`,
			want: []providers.StreamEvent{
				{Kind: providers.EventStart, ID: "c"},
				{Kind: providers.EventToolCall, ToolIndex: 0, ToolID: "a", ToolName: "f", Args: `{"a"`},
				{Kind: providers.EventToolArgs, ToolIndex: 0, Args: ":1}"},
				{Kind: providers.EventFinish, FinishReason: "tool_calls"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeString(tt.sse)
			if err != nil {
				t.Fatalf("err %v after %+v", err, got)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
			// Same result when the body trickles in byte by byte.
			got2, err := drain(DecodeStream(io.NopCloser(iotest.OneByteReader(strings.NewReader(tt.sse)))))
			if err != nil || !reflect.DeepEqual(got2, tt.want) {
				t.Fatalf("one byte at a time: %v %+v", err, got2)
			}
		})
	}
}

func TestDecodeStreamErrors(t *testing.T) {
	first := `data: {"id":"c","model":"m","choices":[{"index":0,"delta":{"content":"Hel"}}]}` + "\n\n"
	tests := []struct {
		name, sse       string
		wantMsg         string
		wantType, wCode string
		wantEvents      int
	}{
		{"mid-stream error event", first + `data: {"error":{"message":"upstream exploded","type":"server_error","param":null,"code":"boom"}}` + "\n\n",
			"upstream exploded", "server_error", "boom", 2},
		{"Mistral-style error object", first + `data: {"object":"error","message":"Service unavailable","type":"internal_error","code":"1000"}` + "\n\n",
			"Service unavailable", "internal_error", "1000", 2},
		{"named error event", first + "event: error\ndata: {\"message\":\"overloaded\"}\n\n", "overloaded", "", "", 2},
		{"malformed JSON", first + "data: {\"id\":\"c\",\"choices\":[{\n\n", "malformed stream data", "", "", 2},
		{"truncated: no finish and no [DONE]", first, "ended before the answer was complete", "", "", 2},
		{"empty body", "", "without sending an answer", "", "", 0},
		{"only [DONE]", "data: [DONE]\n\n", "without sending an answer", "", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeString(tt.sse)
			var e *providers.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (events %+v), want *providers.Error", err, got)
			}
			if !strings.Contains(e.Message, tt.wantMsg) || e.Type != tt.wantType || e.Code != tt.wCode {
				t.Fatalf("error = %+v", e)
			}
			if len(got) != tt.wantEvents {
				t.Fatalf("%d events before the error, want %d", len(got), tt.wantEvents)
			}
		})
	}
}
