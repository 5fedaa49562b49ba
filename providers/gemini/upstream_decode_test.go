package gemini

import (
	"encoding/json"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

func TestFinishReasonTable(t *testing.T) {
	tests := []struct {
		reason  string
		sawCall bool
		want    string
	}{
		{"STOP", false, providers.FinishStop},
		{"STOP", true, providers.FinishToolCalls},
		{"MAX_TOKENS", false, providers.FinishLength},
		{"MAX_TOKENS", true, providers.FinishLength},
		{"SAFETY", false, providers.FinishContentFilter},
		{"RECITATION", false, providers.FinishContentFilter},
		{"BLOCKLIST", false, providers.FinishContentFilter},
		{"PROHIBITED_CONTENT", false, providers.FinishContentFilter},
		{"SPII", false, providers.FinishContentFilter},
		{"IMAGE_SAFETY", false, providers.FinishContentFilter},
		{"IMAGE_PROHIBITED_CONTENT", false, providers.FinishContentFilter},
		{"IMAGE_RECITATION", false, providers.FinishContentFilter},
		{"IMAGE_OTHER", false, providers.FinishContentFilter},
		{"LANGUAGE", false, providers.FinishStop},
		{"OTHER", false, providers.FinishStop},
		{"MALFORMED_FUNCTION_CALL", false, providers.FinishStop},
		{"UNEXPECTED_TOOL_CALL", false, providers.FinishStop},
		{"TOO_MANY_TOOL_CALLS", true, providers.FinishToolCalls},
		{"NO_IMAGE", false, providers.FinishStop},
		{"FINISH_REASON_UNSPECIFIED", false, providers.FinishStop},
	}
	for _, tt := range tests {
		if got := finishReason(tt.reason, tt.sawCall); got != tt.want {
			t.Errorf("finishReason(%s, %v) = %s, want %s", tt.reason, tt.sawCall, got, tt.want)
		}
	}
	back := map[string]string{providers.FinishStop: "STOP", providers.FinishLength: "MAX_TOKENS",
		providers.FinishToolCalls: "STOP", providers.FinishContentFilter: "SAFETY", "": "STOP", "function_call": "STOP"}
	for in, want := range back {
		if got := finishReasonOut(in); got != want {
			t.Errorf("finishReasonOut(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestDecodeResponseCandidates(t *testing.T) {
	var r gResponse
	raw := `{"candidates":[
		{"content":{"role":"model","parts":[{"text":"A"}]},"finishReason":"STOP"},
		{"content":{"role":"model","parts":[{"text":"B"},{"inlineData":{"mimeType":"image/png","data":"iVBO"}}]},"finishReason":"MAX_TOKENS","index":1}]}`
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		t.Fatal(err)
	}
	resp, err := decodeResponse(&r, "gemini-2.5-flash", counter())
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Choices) != 2 || resp.Choices[0].Message.Text() != "A" || resp.Choices[1].Index != 1 ||
		resp.Choices[1].FinishReason != providers.FinishLength || resp.Choices[1].Message.Content[1].URL != "data:image/png;base64,iVBO" ||
		resp.Model != "gemini-2.5-flash" {
		t.Errorf("%s", dump(t, resp))
	}
}
