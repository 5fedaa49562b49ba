package openai

import (
	"strconv"

	"github.com/aigateway/ai-gateway/providers"
)

// appendInt appends n in decimal.
func appendInt(dst []byte, n int) []byte { return strconv.AppendInt(dst, int64(n), 10) }

// appendString appends s as a JSON string literal (see providers.AppendJSONString).
func appendString(dst []byte, s string) []byte { return providers.AppendJSONString(dst, s) }
