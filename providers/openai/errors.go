package openai

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/jsonscan"
)

// errorObject decides the OpenAI error object for e, the one place both the HTTP error body and
// the in-band stream error take it from. The SDKs pick their exception class by the HTTP status
// (400 BadRequest, 401 Authentication, 403 PermissionDenied, 404 NotFound, 429 RateLimit, ≥500
// InternalServer); type and code are for the humans and programs reading error.type/error.code.
//
// The upstream's own type and code pass through when the upstream spoke OpenAI's protocol (or
// the gateway set them): "requests", "insufficient_quota", Mistral's numeric codes. An Anthropic
// or Gemini upstream's ("overloaded_error", "RESOURCE_EXHAUSTED") mean nothing to an OpenAI
// client, so those give way to the defaults, which follow the status like OpenAI's own answers:
// 401 authentication_error, 403 permission_error, 429 rate_limit_error, 499 request_cancelled,
// other 4xx invalid_request_error (404 included, as OpenAI sends for an unknown model), ≥500
// server_error. The default code names what the gateway saw: request_too_large,
// upstream_timeout, upstream_unavailable; else null.
func errorObject(e *providers.Error) (msg, typ, code string) {
	status := e.Status()
	msg = e.Message
	if msg == "" {
		msg = http.StatusText(status)
		if msg == "" {
			msg = "error"
		}
	}
	if e.Provider != "anthropic" && e.Provider != "gemini" {
		typ, code = e.Type, e.Code
	}
	if typ == "" {
		switch {
		case status == http.StatusUnauthorized:
			typ = "authentication_error"
		case status == http.StatusForbidden:
			typ = "permission_error"
		case status == http.StatusTooManyRequests:
			typ = "rate_limit_error"
		case status == 499:
			typ = "request_cancelled"
		case status < 500:
			typ = "invalid_request_error"
		default:
			typ = "server_error"
		}
	}
	if code == "" {
		switch e.Kind {
		case providers.KindTooLarge:
			code = "request_too_large"
		case providers.KindTimeout:
			code = "upstream_timeout"
		case providers.KindUnavailable:
			code = "upstream_unavailable"
		}
	}
	return msg, typ, code
}

// appendErrorObject writes {"error":{"message","type","param","code"}}; all four keys are always
// present (param and code may be null), as OpenAI's ErrorResponse schema requires.
func appendErrorObject(dst []byte, e *providers.Error) []byte {
	msg, typ, code := errorObject(e)
	dst = append(dst, `{"error":{"message":`...)
	dst = appendString(dst, msg)
	dst = append(dst, `,"type":`...)
	dst = appendString(dst, typ)
	dst = append(dst, `,"param":`...)
	dst = appendNullableString(dst, e.Param)
	dst = append(dst, `,"code":`...)
	dst = appendNullableString(dst, code)
	return append(dst, '}', '}')
}

func appendNullableString(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, "null"...)
	}
	return appendString(dst, s)
}

// EncodeError renders e as OpenAI's error body {"error":{"message","type","param","code"}}, to
// send with e.Status(); errorObject says how type and code are chosen.
func EncodeError(e *providers.Error) []byte {
	return appendErrorObject(make([]byte, 0, 96+len(e.Message)), e)
}

// EncodeStreamError appends e as an in-band stream error event, `data: {"error":{...}}\n\n`, the
// same object EncodeError renders and the shape the OpenAI SDKs raise as an API error; the
// caller closes the stream after it.
func EncodeStreamError(dst []byte, e *providers.Error) []byte {
	dst = append(dst, "data: "...)
	dst = appendErrorObject(dst, e)
	return append(dst, '\n', '\n')
}

// errorInfo is what an upstream error body said.
type errorInfo struct {
	message, typ, code, param string
}

// parseErrorBody reads every error envelope seen from OpenAI-compatible servers:
//
//	{"error":{"message","type","param","code"}}               OpenAI, Azure, Perplexity, Ollama /v1
//	{"error":"text","code":"..."}                             xAI, Ollama native
//	{"object":"error","message":"..."|{"detail":[…]},"type","code"} Mistral, vLLM
//	{"detail":"..."|[{"loc":[…],"msg":"…"}]}                  FastAPI-based servers
//	{"message":"..."}                                         Cohere
//
// ok is false when b is not a JSON object with any of those.
func parseErrorBody(b []byte) (errorInfo, bool) {
	var info errorInfo
	if jsonscan.Validate(b) != nil {
		return info, false
	}
	i := jsonscan.SkipSpace(b, 0)
	if b[i] != '{' {
		return info, false
	}
	obj := b[i:]
	if ev := jsonscan.Field(obj, "error"); !jsonscan.IsNull(ev) {
		switch ev[0] {
		case '{':
			readErrorFields(ev, &info)
		case '"':
			info.message, _ = jsonscan.StringValue(ev)
			info.code = scalarString(jsonscan.Field(obj, "code"))
			info.typ = scalarString(jsonscan.Field(obj, "type"))
		}
		return info, info.message != "" || info.code != "" || info.typ != ""
	}
	readErrorFields(obj, &info)
	if info.message == "" {
		info.message = detailMessage(jsonscan.Field(obj, "detail"))
	}
	return info, info.message != ""
}

// readErrorFields fills info from an object with message/type/code/param members. A message that
// is itself an object (Mistral's validation errors) is flattened.
func readErrorFields(obj []byte, info *errorInfo) {
	m := jsonscan.Field(obj, "message")
	switch {
	case jsonscan.IsNull(m):
	case m[0] == '"':
		s, _ := jsonscan.StringValue(m)
		// Older Mistral errors carry the validation detail as a JSON document inside the string.
		if strings.HasPrefix(s, `{"detail"`) {
			if d := detailMessage(jsonscan.Field([]byte(s), "detail")); d != "" {
				s = d
			}
		}
		info.message = s
	case m[0] == '{':
		info.message = detailMessage(jsonscan.Field(m, "detail"))
	}
	info.typ = scalarString(jsonscan.Field(obj, "type"))
	info.code = scalarString(jsonscan.Field(obj, "code"))
	info.param = scalarString(jsonscan.Field(obj, "param"))
}

// detailMessage flattens FastAPI/pydantic validation details into one sentence:
// "body.stream_options: Extra inputs are not permitted".
func detailMessage(d []byte) string {
	if jsonscan.IsNull(d) {
		return ""
	}
	if d[0] == '"' {
		s, _ := jsonscan.StringValue(d)
		return s
	}
	if d[0] != '[' {
		return ""
	}
	var parts []string
	_ = jsonscan.EachElement(d, func(item []byte) bool {
		if len(item) == 0 || item[0] != '{' {
			return true
		}
		msg, _ := jsonscan.StringValue(jsonscan.Field(item, "msg"))
		var loc []string
		if l := jsonscan.Field(item, "loc"); len(l) > 0 && l[0] == '[' {
			_ = jsonscan.EachElement(l, func(p []byte) bool {
				loc = append(loc, scalarString(p))
				return true
			})
		}
		if len(loc) > 0 {
			msg = strings.Join(loc, ".") + ": " + msg
		}
		if msg != "" {
			parts = append(parts, msg)
		}
		return true
	})
	return strings.Join(parts, "; ")
}

// scalarString renders a raw JSON string or number as text ("" for anything else).
func scalarString(raw []byte) string {
	if jsonscan.IsNull(raw) {
		return ""
	}
	if raw[0] == '"' {
		s, _ := jsonscan.StringValue(raw)
		return s
	}
	if raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9') {
		return string(raw)
	}
	return ""
}

// retryAfter returns the Retry-After value in seconds, from Retry-After or retry-after-ms.
func retryAfter(h http.Header) string {
	if v := h.Get("Retry-After"); v != "" {
		return v
	}
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 {
			return strconv.Itoa(int(math.Ceil(ms / 1000)))
		}
	}
	return ""
}

// upstreamError builds the *providers.Error for an upstream error status and body. The
// configured key is scrubbed from the message in case the upstream echoed it.
func (c *Client) upstreamError(status int, h http.Header, body []byte) *providers.Error {
	info, ok := parseErrorBody(body)
	if !ok {
		info = errorInfo{}
		if t := strings.TrimSpace(string(body)); t != "" && !strings.HasPrefix(t, "<") && len(t) <= 500 {
			info.message = fmt.Sprintf("upstream returned HTTP %d: %s", status, t)
		}
	}
	e := providers.UpstreamError(c.preset.id, status, c.scrub(info.message), info.typ, info.code, retryAfter(h))
	e.Param = info.param
	return e
}

// streamError builds the *providers.Error for an error event inside a stream.
func (c *Client) streamError(data []byte) *providers.Error {
	info, _ := parseErrorBody(data)
	msg := info.message
	if msg == "" {
		msg = "upstream reported an error mid-stream"
	}
	return &providers.Error{Kind: providers.KindUpstream, Message: c.scrub(msg), Type: info.typ, Code: info.code,
		Param: info.param, Provider: c.preset.id}
}

// scrub removes the upstream key from s.
func (c *Client) scrub(s string) string {
	if k := c.cfg.APIKey; len(k) >= 8 && strings.Contains(s, k) {
		s = strings.ReplaceAll(s, k, "[redacted]")
	}
	return s
}

func badRequest(format string, args ...any) *providers.Error {
	return providers.Errorf(providers.KindBadRequest, format, args...)
}

// bodyError turns a scanner error into the client-facing 400.
func bodyError(body []byte, err error) *providers.Error {
	if err == jsonscan.ErrNotObject {
		return badRequest("invalid JSON body: the request must be a JSON object")
	}
	return badRequest("invalid JSON body: %s", jsonscan.SyntaxError(body))
}
