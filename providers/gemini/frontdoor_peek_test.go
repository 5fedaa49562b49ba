package gemini

import (
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

func TestPeekRequest(t *testing.T) {
	image := strings.Repeat("A", 40000) // a 30 KB image as base64
	tests := []struct {
		name     string
		body     string
		maxOut   int
		estimate int
	}{
		{"no config", `{"contents":[{"parts":[{"text":"hi"}]}]}`, 0, 10},
		{"camelCase", `{"generationConfig":{"maxOutputTokens":300},"contents":[]}`, 300, 14},
		{"snake_case", `{"generation_config":{"max_output_tokens":"512"}}`, 512, 12},
		{"null", `{"generationConfig":{"maxOutputTokens":null}}`, 0, 11},
		{"names match exactly, as Google's parser does", `{"GenerationConfig":{"maxOutputTokens":5}}`, 0, 10},
		{"inline image counted as an image, not as text", `{"contents":[{"parts":[{"inlineData":{"mimeType":"image/png","data":"` + image + `"}}]}]}`,
			0, (len(`{"contents":[{"parts":[{"inlineData":{"mimeType":"image/png","data":}}]}]}`))/4 + 258},
		{"snake inline data", `{"contents":[{"parts":[{"inline_data":{"mime_type":"image/png","data":"` + image + `"}}]}]}`,
			0, (len(`{"contents":[{"parts":[{"inline_data":{"mime_type":"image/png","data":}}]}]}`))/4 + 258},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := PeekRequest([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if info.MaxTokens != tt.maxOut || info.InputTokens != tt.estimate {
				t.Errorf("got %+v, want max %d estimate %d", info, tt.maxOut, tt.estimate)
			}
		})
	}
	for body, want := range map[string]int{
		`{"generationConfig":{"candidateCount":8,"maxOutputTokens":10}}`: 8,
		`{"generation_config":{"candidate_count":"200"}}`:                200,
		`{"generationConfig":{"candidateCount":0}}`:                      0,
		`{"generationConfig":{"candidateCount":null}}`:                   0,
		`{"generationConfig":{"candidateCount":1e12}}`:                   1<<31 - 1,
	} {
		if info, err := PeekRequest([]byte(body)); err != nil || info.Choices != want {
			t.Errorf("%s: Choices %d (%v), want %d", body, info.Choices, err, want)
		}
	}
	for body, want := range map[string]string{
		`{"contents":[}`:           "invalid character",
		`[]`:                       "must be a JSON object",
		`{"generationConfig":"x"}`: "generationConfig must be an object",
		`{"generationConfig":{"maxOutputTokens":"x"}}`: "maxOutputTokens",
		`{"generationConfig":{"candidateCount":"x"}}`:  "candidateCount",
		`{"generationConfig":{"candidateCount":-1}}`:   "candidateCount must not be negative",
	} {
		_, err := PeekRequest([]byte(body))
		if e, ok := err.(*providers.Error); !ok || e.Status() != 400 || !strings.Contains(e.Message, want) {
			t.Errorf("%s: got %v, want a 400 containing %q", body, err, want)
		}
	}
}
