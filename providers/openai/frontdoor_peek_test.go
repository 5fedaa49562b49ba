package openai

import (
	"errors"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

func TestPeekRequest(t *testing.T) {
	tests := []struct {
		name string
		body string
		want RequestInfo
	}{
		{
			name: "opencode streaming body",
			body: opencodeBody,
			want: RequestInfo{Model: "gw/m", Stream: true, IncludeUsage: true, Messages: 2,
				// "You are opencode." (17) + "look" (4) + tools raw JSON, /4, + one image.
				InputTokens: (17+4+len(`[{"type":"function","function":{"name":"bash","parameters":{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{"n":{"type":"integer","exclusiveMinimum":0,"maximum":9007199254740991}}}}}]`)+3)/4 + imageTokens},
		},
		{
			name: "max_completion_tokens wins over max_tokens",
			body: `{"model":"m","messages":[{"role":"user","content":"abcdefgh"}],"max_tokens":5,"max_completion_tokens":7}`,
			want: RequestInfo{Model: "m", MaxTokens: 7, Messages: 1, InputTokens: 2},
		},
		{
			name: "n is the number of choices",
			body: `{"model":"m","messages":[],"n":128,"max_tokens":10}`,
			want: RequestInfo{Model: "m", MaxTokens: 10, Choices: 128},
		},
		{
			name: "n null is absent",
			body: `{"model":"m","messages":[],"n":null}`,
			want: RequestInfo{Model: "m"},
		},
		{
			name: "escapes and multi-byte letters count once; tool calls count",
			body: `{"messages":[{"role":"user","content":"\u00e9t\u00e9 漢字"},{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"ab","arguments":"{\"x\":1}"}}]}],"stream":false,"stream_options":{"include_usage":false}}`,
			// 6 chars + "ab" (2) + {"x":1} (7) = 15 → 4 tokens
			want: RequestInfo{Messages: 2, InputTokens: 4},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PeekRequest([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestPeekRequestErrors(t *testing.T) {
	for body, want := range map[string]string{
		`{"model":1,"messages":[]}`:                    `invalid "model"`,
		`{"model":"m","messages":{}}`:                  `invalid "messages"`,
		`{"model":"m","messages":[],"stream":"y"}`:     `invalid "stream"`,
		`{"model":"m","messages":[],"max_tokens":"1"}`: `invalid "max_tokens"`,
		`{"model":"m","messages":[],"n":"2"}`:          `invalid "n": expected an integer`,
		`{"model":"m","messages":[],"n":1.5}`:          `invalid "n": expected an integer`,
		`{"model":"m","messages":[],"n":0}`:            `invalid "n": 0 is less than the minimum of 1`,
		`{"model":"m",`:                                "invalid JSON body: unexpected end of JSON input",
		`null`:                                         "must be a JSON object",
	} {
		_, err := PeekRequest([]byte(body))
		var e *providers.Error
		if !errors.As(err, &e) || e.Kind != providers.KindBadRequest || !strings.Contains(e.Message, want) {
			t.Errorf("PeekRequest(%s) = %v, want 400 containing %q", body, err, want)
		}
	}
}
