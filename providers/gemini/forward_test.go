package gemini

import (
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

func TestFinishSniffer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		chunks []string
		want   string
	}{
		{"none yet", []string{`{"candidates":[{"content":{"parts":[{"text":"hi"}]}}]}`}, ""},
		{"stop", []string{`{"candidates":[{"content":{"parts":[{"text":"hi"}]}}]}`, `{"candidates":[{"finishReason":"STOP"}]}`}, "stop"},
		{"stop after a call is tool_calls", []string{`{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{}}}]},"finishReason":"STOP"}]}`}, "tool_calls"},
		{"max tokens", []string{`{"candidates":[{"finishReason":"MAX_TOKENS","index":0}]}`}, "length"},
		{"safety", []string{`{"candidates":[{"finishReason":"SAFETY"}]}`}, "content_filter"},
		{"other candidates ignored", []string{`{"candidates":[{"index":1,"finishReason":"MAX_TOKENS"},{"finishReason":"STOP"}]}`}, "stop"},
		{"blocked prompt", []string{`{"promptFeedback":{"blockReason":"SAFETY"}}`}, "content_filter"},
		{"text that mentions the key is not a call", []string{`{"candidates":[{"content":{"parts":[{"text":"say \"functionCall\""}]},"finishReason":"STOP"}]}`}, "stop"},
	} {
		var f FinishSniffer
		for _, c := range tc.chunks {
			f.Observe([]byte(c))
		}
		if got := f.FinishReason(); got != tc.want {
			t.Errorf("%s: FinishReason() = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestUsageFromChunk(t *testing.T) {
	want := providers.Usage{InputTokens: 8, OutputTokens: 16, ReasoningTokens: 10, CachedTokens: 2}
	tests := []struct {
		name string
		data string
		ok   bool
	}{
		{"SSE chunk", `{"candidates":[{"content":{"parts":[{"text":"hi"}]}}],"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":6,"totalTokenCount":24,"thoughtsTokenCount":10,"cachedContentTokenCount":2},"modelVersion":"m"}`, true},
		{"JSON-array piece, last wins", `[{"usageMetadata":{"promptTokenCount":8,"totalTokenCount":8}},` + "\r\n" + `{"usageMetadata": {"promptTokenCount":8,"candidatesTokenCount":6,"totalTokenCount":24,"thoughtsTokenCount":10,"cachedContentTokenCount":2}}]`, true},
		{"truncated last object falls back to the previous", `{"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":6,"thoughtsTokenCount":10,"cachedContentTokenCount":2}},{"usageMetadata":{"promptTok`, true},
		{"the word inside text is not usage", `{"candidates":[{"content":{"parts":[{"text":"what is \"usageMetadata\"?"}]}}]}`, false},
		{"no usage", `{"candidates":[]}`, false},
		{"usage not an object", `{"usageMetadata":null}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := UsageFromChunk([]byte(tt.data))
			if ok != tt.ok || (ok && got != want) {
				t.Errorf("got %+v %v, want %+v %v", got, ok, want, tt.ok)
			}
		})
	}
}

func TestCandidatesIn(t *testing.T) {
	for data, want := range map[string]int{
		`{"candidates":[{"content":{"parts":[{"text":"a]"}]},"index":0}]}`:            1,
		`{"candidates":[ {"index":0} , {"index":1},{"index":2} ],"modelVersion":"m"}`: 3,
		`{"candidates":[]}`:                1,
		`{"usageMetadata":{}}`:             1,
		`not json`:                         1,
		`{"candidates":[{"index":0},{"ind`: 1,
	} {
		if got := CandidatesIn([]byte(data)); got != want {
			t.Errorf("CandidatesIn(%s) = %d, want %d", data, got, want)
		}
	}
}
