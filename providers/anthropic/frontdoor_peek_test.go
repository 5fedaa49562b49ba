package anthropic

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

func TestPeekRequest(t *testing.T) {
	body, _ := os.ReadFile("testdata/decode_claude_code.json")
	info, err := PeekRequest(body)
	if err != nil {
		t.Fatal(err)
	}
	if info.Model != "claude-sonnet-4-5" || !info.Stream || info.MaxTokens != 32000 {
		t.Errorf("info = %+v", info)
	}
	if info.InputTokens < 60 || info.InputTokens > 200 {
		t.Errorf("estimate %d is off for a ~500-byte prompt", info.InputTokens)
	}

	// chars/4, and a flat estimate per image whatever the size of its data.
	text := strings.Repeat("a", 400)
	img := `{"type":"image","source":{"type":"base64","media_type":"image/png","data":"` + strings.Repeat("A", 100000) + `"}}`
	b := `{"model":"m","max_tokens":10,"system":"` + text + `","messages":[{"role":"user","content":[{"type":"text","text":"` + text + `"},` + img + `]},` +
		`{"role":"user","content":[{"type":"tool_result","tool_use_id":"x","content":[{"type":"text","text":"` + text + `"},` + img + `]}]}]}`
	info, err = PeekRequest([]byte(b))
	if err != nil {
		t.Fatal(err)
	}
	if want := 3*100 + 2*imageTokens; info.InputTokens != want {
		t.Errorf("estimate %d, want %d", info.InputTokens, want)
	}

	for _, tt := range []struct{ body, want string }{
		{`{"model":`, "invalid JSON body"},
		{`"x"`, "must be a JSON object"},
		{`{"model":5}`, "model: invalid type"},
		{`{"max_tokens":1.5}`, "max_tokens: Input should be a valid integer"},
	} {
		_, err := PeekRequest([]byte(tt.body))
		var e *providers.Error
		if !errors.As(err, &e) || e.Kind != providers.KindBadRequest || !strings.Contains(e.Message, tt.want) {
			t.Errorf("PeekRequest(%s) = %v, want %q", tt.body, err, tt.want)
		}
	}
	info, _ = PeekRequest([]byte(`{"max_tokens":1e3}`))
	if info.MaxTokens != 1000 {
		t.Errorf("max_tokens 1e3 peeked as %d", info.MaxTokens)
	}
	info, _ = PeekRequest([]byte(`{"messages":[]}`))
	if info.MaxTokens != 0 {
		t.Errorf("missing max_tokens peeked as %d", info.MaxTokens)
	}
}
