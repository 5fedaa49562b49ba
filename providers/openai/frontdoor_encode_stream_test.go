package openai

import (
	"reflect"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

func TestStreamEncoderGolden(t *testing.T) {
	for _, includeUsage := range []bool{true, false} {
		name := "stream_tools.sse"
		if !includeUsage {
			name = "stream_tools_no_usage.sse"
		}
		t.Run(name, func(t *testing.T) {
			e := NewStreamEncoder("chatcmpl-gw1", "", 1700000000, includeUsage)
			var out []byte
			for _, ev := range toolStream() {
				out = e.Encode(out, ev)
			}
			out = e.Done(out)
			golden(t, name, out)
			if again := e.Done(nil); len(again) != 0 {
				t.Fatalf("second Done wrote %q", again)
			}
		})
	}
}

func TestStreamEncoderRoundTrip(t *testing.T) {
	// What the encoder writes, an OpenAI client (here our own decoder) reads back as the same answer.
	e := NewStreamEncoder("chatcmpl-gw1", "", 1700000000, true)
	var out []byte
	for _, ev := range toolStream() {
		out = e.Encode(out, ev)
	}
	got, err := decodeString(string(e.Done(out)))
	if err != nil {
		t.Fatal(err)
	}
	want := []providers.StreamEvent{
		{Kind: providers.EventStart, ID: "chatcmpl-gw1", Model: "claude-sonnet"},
		{Kind: providers.EventReasoning, Text: "Two cities."},
		{Kind: providers.EventText, Text: "Checking "},
		{Kind: providers.EventToolCall, ToolIndex: 0, ToolID: "toolu_A", ToolName: "get_weather"},
		{Kind: providers.EventToolArgs, ToolIndex: 0, Args: `{"loca`},
		{Kind: providers.EventToolCall, ToolIndex: 1, ToolID: "toolu_B", ToolName: "get_weather", Args: `{"location":`},
		{Kind: providers.EventToolArgs, ToolIndex: 0, Args: `tion":"Paris"}`},
		{Kind: providers.EventToolArgs, ToolIndex: 1, Args: `"Rome"}`},
		{Kind: providers.EventFinish, FinishReason: "tool_calls"},
		{Kind: providers.EventUsage, Usage: &providers.Usage{InputTokens: 20, OutputTokens: 30, CachedTokens: 5}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

func TestStreamEncoderRobustness(t *testing.T) {
	tests := []struct {
		name         string
		includeUsage bool
		events       []providers.StreamEvent
		want         string
	}{
		{
			name:   "no EventStart: role chunk comes before the first content; Done adds the finish",
			events: []providers.StreamEvent{{Kind: providers.EventText, Text: "hi"}},
			want: `data: {"id":"id","object":"chat.completion.chunk","created":7,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}

data: {"id":"id","object":"chat.completion.chunk","created":7,"model":"m","choices":[{"index":0,"delta":{"content":"hi"},"logprobs":null,"finish_reason":null}]}

data: {"id":"id","object":"chat.completion.chunk","created":7,"model":"m","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}

data: [DONE]

`,
		},
		{
			name:         "include_usage without any usage: no invented usage chunk",
			includeUsage: true,
			events:       []providers.StreamEvent{{Kind: providers.EventStart}, {Kind: providers.EventFinish, FinishReason: "length"}},
			want: `data: {"id":"id","object":"chat.completion.chunk","created":7,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}

data: {"id":"id","object":"chat.completion.chunk","created":7,"model":"m","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"length"}]}

data: [DONE]

`,
		},
		{
			name:         "usage first, finish unset after tool args for an unstarted call",
			includeUsage: true,
			events: []providers.StreamEvent{
				{Kind: providers.EventUsage, Usage: usage(3, 4)},
				{Kind: providers.EventToolArgs, ToolIndex: 0, Args: `{}`},
				{Kind: providers.EventFinish},
			},
			want: `data: {"id":"id","object":"chat.completion.chunk","created":7,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}

data: {"id":"id","object":"chat.completion.chunk","created":7,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]},"logprobs":null,"finish_reason":null}]}

data: {"id":"id","object":"chat.completion.chunk","created":7,"model":"m","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}]}

data: {"id":"id","object":"chat.completion.chunk","created":7,"model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}

data: [DONE]

`,
		},
		{
			name:   "nothing at all still ends as a valid, non-empty answer",
			events: nil,
			want: `data: {"id":"id","object":"chat.completion.chunk","created":7,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}

data: {"id":"id","object":"chat.completion.chunk","created":7,"model":"m","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}

data: [DONE]

`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewStreamEncoder("id", "m", 7, tt.includeUsage)
			var out []byte
			for _, ev := range tt.events {
				out = e.Encode(out, ev)
			}
			out = e.Done(out)
			if string(out) != tt.want {
				t.Fatalf("\n got %s\nwant %s", out, tt.want)
			}
		})
	}
}

func TestStreamEncoderChoices(t *testing.T) {
	// n>1: chunks of different choices are told apart by index, each gets role and finish.
	e := NewStreamEncoder("id", "m", 1, false)
	var out []byte
	out = e.Encode(out, providers.StreamEvent{Kind: providers.EventText, Choice: 1, Text: "b"})
	out = e.Encode(out, providers.StreamEvent{Kind: providers.EventText, Choice: 0, Text: "a"})
	out = e.Done(out)
	got, err := decodeString(string(out))
	if err != nil {
		t.Fatal(err)
	}
	var texts, finishes []string
	for _, ev := range got {
		switch ev.Kind {
		case providers.EventText:
			texts = append(texts, ev.Text+string(rune('0'+ev.Choice)))
		case providers.EventFinish:
			finishes = append(finishes, ev.FinishReason+string(rune('0'+ev.Choice)))
		}
	}
	if !reflect.DeepEqual(texts, []string{"b1", "a0"}) || !reflect.DeepEqual(finishes, []string{"stop0", "stop1"}) {
		t.Fatalf("texts %v finishes %v\n%s", texts, finishes, out)
	}
}
