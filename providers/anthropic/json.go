package anthropic

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/aigateway/ai-gateway/providers"
)

// appendString appends s as a JSON string literal (see providers.AppendJSONString).
func appendString(dst []byte, s string) []byte { return providers.AppendJSONString(dst, s) }

// appendInt appends n in decimal.
func appendInt(dst []byte, n int) []byte { return strconv.AppendInt(dst, int64(n), 10) }

// marshalNoEscape is json.Marshal without HTML escaping (these bytes go to API clients).
func marshalNoEscape(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Every value given here marshals; this only guards against a future mistake.
		return EncodeError(&providers.Error{Kind: providers.KindInternal, Message: "encoding the answer failed"})
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})
}
