package anthropic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/aigateway/ai-gateway/providers"
)

// errorObject decides the Anthropic error object for e, the one place both the HTTP error body
// and the in-band `event: error` take it from. An in-band error has no status of its own, so the
// type is all a client can tell it by (the SDKs read error.type; over HTTP they pick their
// exception by status too).
//
// An Anthropic upstream's own type passes through, as does one the gateway set that is one of
// Anthropic's; another protocol's type ("requests", "RESOURCE_EXHAUSTED", or even OpenAI's
// "invalid_request_error", whose statuses differ) gives way to the type of the status, as
// Anthropic documents them: 400 invalid_request_error, 401 authentication_error, 402
// billing_error, 403 permission_error, 404 not_found_error, 408/504 timeout_error, 413
// request_too_large, 429 rate_limit_error, 503/529 overloaded_error, another 4xx
// invalid_request_error, another 5xx api_error. An empty message becomes the status text.
func errorObject(e *providers.Error) (typ, msg string) {
	status := e.Status()
	msg = e.Message
	if msg == "" {
		msg = http.StatusText(status)
		if msg == "" {
			msg = "error"
		}
	}
	if _, ok := typeStatus(e.Type); ok && (e.Provider == "" || e.Provider == "anthropic") {
		return e.Type, msg
	}
	switch status {
	case http.StatusUnauthorized:
		typ = "authentication_error"
	case http.StatusPaymentRequired:
		typ = "billing_error"
	case http.StatusForbidden:
		typ = "permission_error"
	case http.StatusNotFound:
		typ = "not_found_error"
	case http.StatusRequestEntityTooLarge:
		typ = "request_too_large"
	case http.StatusTooManyRequests:
		typ = "rate_limit_error"
	case http.StatusGatewayTimeout, http.StatusRequestTimeout:
		typ = "timeout_error"
	case 529, http.StatusServiceUnavailable:
		typ = "overloaded_error"
	default:
		typ = "api_error"
		if status < 500 {
			typ = "invalid_request_error"
		}
	}
	return typ, msg
}

// EncodeError renders e as an Anthropic error body {"type":"error","error":{"type","message"}},
// to send with e.Status(); errorObject says how the type is chosen.
func EncodeError(e *providers.Error) []byte {
	return appendError(make([]byte, 0, 80+len(e.Message)), e)
}

// EncodeStreamError appends e as an in-band stream error, `event: error` with the same object
// EncodeError renders, for an error after the stream has started; the caller closes the stream
// after it.
func EncodeStreamError(dst []byte, e *providers.Error) []byte {
	dst = append(dst, "event: error\ndata: "...)
	dst = appendError(dst, e)
	return append(dst, "\n\n"...)
}

func appendError(dst []byte, e *providers.Error) []byte {
	typ, msg := errorObject(e)
	dst = append(dst, `{"type":"error","error":{"type":`...)
	dst = appendString(dst, typ)
	dst = append(dst, `,"message":`...)
	dst = appendString(dst, msg)
	return append(dst, "}}"...)
}

// invalidResponse is the error for an upstream answer the gateway cannot read.
func invalidResponse(what string, err error) *providers.Error {
	return &providers.Error{Kind: providers.KindUpstream, HTTPStatus: http.StatusBadGateway,
		Message: fmt.Sprintf("anthropic returned an invalid %s: %v", what, err)}
}

// typeStatus is the HTTP status Anthropic uses for each error type; it is how an error that
// arrives without a status (an SSE error event) gets one.
func typeStatus(typ string) (int, bool) {
	switch typ {
	case "invalid_request_error":
		return http.StatusBadRequest, true
	case "authentication_error":
		return http.StatusUnauthorized, true
	case "billing_error":
		return http.StatusPaymentRequired, true
	case "permission_error":
		return http.StatusForbidden, true
	case "not_found_error":
		return http.StatusNotFound, true
	case "request_too_large":
		return http.StatusRequestEntityTooLarge, true
	case "rate_limit_error":
		return http.StatusTooManyRequests, true
	case "api_error":
		return http.StatusInternalServerError, true
	case "timeout_error":
		return http.StatusGatewayTimeout, true
	case "overloaded_error":
		return 529, true
	}
	return 0, false
}

// DecodeError turns an upstream error response ({"type":"error","error":{"type","message"}})
// into a *providers.Error that keeps the status, the message, the error type and retryAfter
// (the Retry-After header value). A body that is not in that shape still gives an error with
// the status and a short excerpt of the body. Provider is "anthropic".
func DecodeError(status int, retryAfter string, body []byte) *providers.Error {
	var env struct {
		Error *wireError `json:"error"`
	}
	msg, typ := "", ""
	if json.Unmarshal(body, &env) == nil && env.Error != nil {
		msg, typ = env.Error.Message, env.Error.Type
	} else if t := bytes.TrimSpace(body); len(t) > 0 && t[0] != '<' {
		if len(t) > 200 {
			t = t[:200]
		}
		msg = fmt.Sprintf("upstream returned HTTP %d: %s", status, strings.ToValidUTF8(string(t), "\uFFFD"))
	}
	return providers.UpstreamError("anthropic", status, msg, typ, "", retryAfter)
}

// streamError is the *providers.Error for an error event inside a stream, whose status comes
// from its type (overloaded_error → 529 and so on; an unknown type → 502).
func streamError(e *wireError) *providers.Error {
	status, ok := typeStatus(e.Type)
	if !ok {
		status = http.StatusBadGateway
	}
	return providers.UpstreamError("anthropic", status, e.Message, e.Type, "", "")
}

func badRequest(format string, args ...any) *providers.Error {
	return providers.Errorf(providers.KindBadRequest, format, args...)
}
