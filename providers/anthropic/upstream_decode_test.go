package anthropic

import (
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
