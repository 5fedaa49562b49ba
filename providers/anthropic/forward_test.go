package anthropic

import (
	"os"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

func TestUsageSniffer(t *testing.T) {
	sse, _ := os.ReadFile("testdata/stream_parallel_tools.sse")
	var s UsageSniffer
	r := providers.NewSSEReader(strings.NewReader(string(sse)))
	for {
		ev, err := r.Next()
		if err != nil {
			break
		}
		s.Observe(ev.Name, ev.Data)
	}
	want := providers.Usage{InputTokens: 331, OutputTokens: 89, CachedTokens: 300, CacheCreationTokens: 10}
	if !s.Seen() || s.Usage() != want || s.StopReason() != "tool_use" || s.FinishReason() != providers.FinishToolCalls || s.Err() != nil {
		t.Errorf("usage %+v stop %q finish %q err %v", s.Usage(), s.StopReason(), s.FinishReason(), s.Err())
	}

	// Without event names, and with an in-band error.
	var s2 UsageSniffer
	s2.Observe("", []byte(`{"type":"message_start","message":{"usage":{"input_tokens":5}}}`))
	s2.Observe("", []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"the \"usage\" of \"error\""}}`))
	s2.Observe("", []byte(`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`))
	if s2.Usage().InputTokens != 5 || s2.Err() == nil || s2.Err().Status() != 529 || s2.FinishReason() != "" {
		t.Errorf("usage %+v err %v", s2.Usage(), s2.Err())
	}
}

func TestUsageFromEvent(t *testing.T) {
	tests := []struct {
		name, data string
		want       providers.Usage
		ok         bool
	}{
		{"message_start", `{"type":"message_start","message":{"usage":{"input_tokens":10,"cache_read_input_tokens":90,"output_tokens":1}}}`,
			providers.Usage{InputTokens: 100, CachedTokens: 90, OutputTokens: 1}, true},
		{"message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":42}}`, providers.Usage{OutputTokens: 42}, true},
		{"content_block_delta", `{"type":"content_block_delta","delta":{"type":"text_delta","text":"\"message_start\""}}`, providers.Usage{}, false},
		{"ping", `{"type":"ping"}`, providers.Usage{}, false},
		{"message_delta", `not json`, providers.Usage{}, false},
	}
	for _, tt := range tests {
		u, ok := UsageFromEvent(tt.name, []byte(tt.data))
		if u != tt.want || ok != tt.ok {
			t.Errorf("%s: %+v %v, want %+v %v", tt.name, u, ok, tt.want, tt.ok)
		}
	}
}

func TestUsageFromBody(t *testing.T) {
	body, _ := os.ReadFile("testdata/response_tools.json")
	u, finish, ok := UsageFromBody(body)
	if !ok || finish != providers.FinishToolCalls || u != (providers.Usage{InputTokens: 2121, OutputTokens: 120, CachedTokens: 2000, CacheCreationTokens: 100}) {
		t.Errorf("usage %+v finish %q ok %v", u, finish, ok)
	}
	if _, _, ok := UsageFromBody([]byte(`{"type":"error","error":{"type":"api_error","message":"x"}}`)); ok {
		t.Error("usage from an error body")
	}
}
