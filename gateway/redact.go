package gateway

import (
	"bytes"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/providers"
)

const (
	// maxBodyBytes is how much of a request or response body the request log keeps.
	maxBodyBytes = 64 << 10
	// bodyMargin is kept beyond maxBodyBytes until redaction, so that a key cut by the limit is
	// still recognised and removed whole.
	bodyMargin = 512
	// maxErrorBytes bounds the error message of a log row.
	maxErrorBytes = 2048
	redacted      = "[REDACTED]"
)

// keyPattern matches what API keys look like: bearer tokens, OpenAI/Anthropic/gateway-style
// prefixed keys (sk-, sk-ant-, gm_, xai-, pplx-) and Google API keys.
var keyPattern = regexp.MustCompile(`(?i:bearer\s+)[A-Za-z0-9._~+/=-]{8,}|\b(?:sk-|gm_|xai-|pplx-)[A-Za-z0-9_-]{16,}|\bAIza[0-9A-Za-z_-]{30,}`)

// clipBody copies the part of b the log may keep (the caller's buffer may be reused).
func clipBody(b []byte) string {
	if len(b) > maxBodyBytes+bodyMargin {
		b = b[:maxBodyBytes+bodyMargin]
	}
	return string(b)
}

// redact removes secret (the client's upstream key) and anything that looks like an API key
// from s, then cuts it to limit bytes on a UTF-8 boundary.
func redact(s, secret string, limit int) string {
	if s == "" {
		return s
	}
	if len(secret) >= 8 {
		s = strings.ReplaceAll(s, secret, redacted)
	}
	s = keyPattern.ReplaceAllString(s, redacted)
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

func redactRow(r *db.RequestLog, secret string) {
	r.RequestBody = redact(r.RequestBody, secret, maxBodyBytes)
	r.ResponseBody = redact(r.ResponseBody, secret, maxBodyBytes)
	r.ErrorMessage = redact(r.ErrorMessage, secret, maxErrorBytes)
}

// Leaks reports whether b holds the client's upstream key: the cheap test before Redact copies.
func (c *Client) Leaks(b []byte) bool {
	return len(c.upstreamKey) >= 8 && bytes.Contains(b, []byte(c.upstreamKey))
}

// Redact returns b with the client's upstream key replaced by [REDACTED], or b itself when the
// key is not in it. Upstream text passed on to the caller goes through it: some providers echo
// the key they were sent in their error messages.
func (c *Client) Redact(b []byte) []byte {
	if !c.Leaks(b) {
		return b
	}
	return bytes.ReplaceAll(b, []byte(c.upstreamKey), []byte(redacted))
}

// RedactError returns e, or a copy of it whose message no longer holds the client's upstream key.
func (c *Client) RedactError(e *providers.Error) *providers.Error {
	if e == nil || len(c.upstreamKey) < 8 || !strings.Contains(e.Message, c.upstreamKey) {
		return e
	}
	out := *e
	out.Message = strings.ReplaceAll(e.Message, c.upstreamKey, redacted)
	return &out
}
