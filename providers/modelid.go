package providers

import (
	"fmt"
	"strings"
)

// MaxModelIDLen bounds a model id (a request's, a client's default model, a whitelist entry).
const MaxModelIDLen = 200

// CheckModelID is the one rule for what may name a model: what a client sends, and what an admin
// enters as a default model or whitelist entry. A model id goes into upstream URL paths (Gemini's
// models/{id}:action, Azure's deployments/{id}/…), so it must not be able to climb out of them.
//
// Allowed are letters, digits and - . _ : / @ + (vendor ids such as "meta-llama/Llama-3.1-8B",
// "llama3:8b", "@cf/meta/llama-3-8b", "anthropic.claude-v2:1"), at most MaxModelIDLen bytes; a
// "/" separates non-empty segments, none of which is "." or "..". That leaves out "%" (no
// encoded "..%2f"), "\", "?", "#", spaces and control characters.
//
// It returns nil, or a KindBadRequest *Error (Param "model") that says what is wrong.
func CheckModelID(id string) error {
	switch {
	case id == "":
		return modelIDError(id, "a model is required")
	case len(id) > MaxModelIDLen:
		return modelIDError(id, fmt.Sprintf("it is longer than %d characters", MaxModelIDLen))
	}
	for i := 0; i < len(id); i++ {
		if !modelIDByte(id[i]) {
			return modelIDError(id, "only letters, digits and - . _ : / @ + may name a model")
		}
	}
	for seg := range strings.SplitSeq(id, "/") {
		switch seg {
		case "":
			return modelIDError(id, `"/" must separate non-empty names`)
		case ".", "..":
			return modelIDError(id, `"." and ".." are not model names`)
		}
	}
	return nil
}

func modelIDByte(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || strings.IndexByte("-._:/@+", b) >= 0
}

func modelIDError(id, why string) *Error {
	if len(id) > 80 {
		id = id[:80] + "…"
	}
	return &Error{Kind: KindBadRequest, Param: "model", Code: "invalid_model",
		Message: fmt.Sprintf("invalid model id %q: %s", id, why)}
}
