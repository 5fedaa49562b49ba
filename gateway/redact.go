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

// redact removes secrets (the client's upstream keys) and anything that looks like an API key
// from s, then cuts it to limit bytes on a UTF-8 boundary.
func redact(s string, secrets []string, limit int) string {
	if s == "" {
		return s
	}
	for _, secret := range secrets {
		if len(secret) >= 8 {
			s = strings.ReplaceAll(s, secret, redacted)
		}
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

func redactRow(r *db.RequestLog, secrets []string) {
	r.RequestBody = redact(r.RequestBody, secrets, maxBodyBytes)
	r.ResponseBody = redact(r.ResponseBody, secrets, maxBodyBytes)
	r.ErrorMessage = redact(r.ErrorMessage, secrets, maxErrorBytes)
	r.Attempts = db.Edited(r.Attempts, func(a *db.Attempt) bool {
		clean := redact(a.Error, secrets, maxErrorBytes)
		changed := clean != a.Error
		a.Error = clean
		return changed
	})
}

// Leaks reports whether b holds one of the client's upstream keys: the cheap test before Redact
// copies.
func (c *Client) Leaks(b []byte) bool {
	for _, k := range c.upstreamKeys {
		if len(k) >= 8 && bytes.Contains(b, []byte(k)) {
			return true
		}
	}
	return false
}

// Redact returns b with the client's upstream keys replaced by [REDACTED], or b itself when no
// key is in it. Upstream text passed on to the caller goes through it: some providers echo the
// key they were sent in their error messages.
func (c *Client) Redact(b []byte) []byte {
	if !c.Leaks(b) {
		return b
	}
	for _, k := range c.upstreamKeys {
		if len(k) >= 8 {
			b = bytes.ReplaceAll(b, []byte(k), []byte(redacted))
		}
	}
	return b
}

// RedactError returns e, or a copy of it whose message no longer holds the client's upstream keys.
func (c *Client) RedactError(e *providers.Error) *providers.Error {
	if e == nil || !c.Leaks([]byte(e.Message)) {
		return e
	}
	out := *e
	out.Message = string(c.Redact([]byte(e.Message)))
	return &out
}
