package gemini

import "testing"

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
