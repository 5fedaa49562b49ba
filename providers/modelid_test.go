package providers

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckModelID(t *testing.T) {
	ok := []string{"gpt-4o", "gemini-2.5-flash", "models/gemini-2.5-flash", "tunedModels/my-model",
		"meta-llama/Llama-3.1-8B-Instruct", "llama3:8b", "hf.co/bartowski/Llama-3.2-1B-GGUF:Q4_K_M",
		"@cf/meta/llama-3-8b-instruct", "anthropic.claude-3-5-sonnet-20240620-v1:0", "a+b", "v1.5", "...",
		"accounts/fireworks/models/llama-v3p1-8b-instruct", strings.Repeat("m", MaxModelIDLen)}
	for _, id := range ok {
		if err := CheckModelID(id); err != nil {
			t.Errorf("CheckModelID(%q) = %v, want nil", id, err)
		}
	}
	bad := []string{"", ".", "..", "../x", "x/..", "a/../b", "./a", "/a", "a/", "a//b", "..%2fx", "%2e%2e",
		`..\x`, "a?b", "a#b", "a b", "a\tb", "a\nb", "a\x00b", "é", "a\"b", strings.Repeat("m", MaxModelIDLen+1)}
	for _, id := range bad {
		err := CheckModelID(id)
		var e *Error
		if !errors.As(err, &e) || e.Kind != KindBadRequest || e.Param != "model" {
			t.Errorf("CheckModelID(%q) = %v, want a KindBadRequest *Error for param model", id, err)
			continue
		}
		if len(e.Message) > 200 {
			t.Errorf("CheckModelID(%q): message of %d bytes, want a short one", id, len(e.Message))
		}
	}
}
