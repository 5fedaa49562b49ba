package gemini

import (
	"bytes"
	"encoding/json"

	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/jsonscan"
)

// compactJSON returns raw without insignificant whitespace, or raw unchanged when it is not valid JSON.
func compactJSON(raw []byte) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}

// isJSONObject reports whether raw is a valid JSON object.
func isJSONObject(raw []byte) bool {
	i := jsonscan.SkipSpace(raw, 0)
	return i < len(raw) && raw[i] == '{' && jsonscan.Validate(raw) == nil
}

// marshal encodes v as compact JSON without HTML escaping. Encoding the package's own wire
// types cannot fail; if it ever did, the result would be "null", which callers treat as invalid.
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return []byte("null")
	}
	out := b.Bytes()
	return out[:len(out)-1] // Encode appends a newline
}

// appendJSONString appends s as a JSON string literal (see providers.AppendJSONString).
func appendJSONString(dst []byte, s string) []byte { return providers.AppendJSONString(dst, s) }
