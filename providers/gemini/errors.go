package gemini

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/aigateway/ai-gateway/providers"
)

// errorObject decides the Gemini error object for e, the one place both the HTTP error body and
// the in-band stream error take it from: the code is e's status, and the status name is what
// google-genai keeps as APIError.Status (it picks ClientError or ServerError by the code).
//
// A Gemini upstream's own status name (kept in Error.Type) passes through, so
// FAILED_PRECONDITION stays itself; another protocol's type ("overloaded_error") gives way to the
// name of the status, as Google maps them: 400/413/422 INVALID_ARGUMENT, 401 UNAUTHENTICATED, 403
// PERMISSION_DENIED, 404 NOT_FOUND, 409 ABORTED, 429 RESOURCE_EXHAUSTED, 499 CANCELLED, 501
// UNIMPLEMENTED, 502/503/529 UNAVAILABLE, 504 DEADLINE_EXCEEDED; another 4xx is INVALID_ARGUMENT
// when the request was at fault (405, 431) and FAILED_PRECONDITION when an upstream refused it
// (402); another 5xx INTERNAL. An empty message becomes the status text.
func errorObject(e *providers.Error) (code int, msg, status string) {
	code = e.Status()
	msg = e.Message
	if msg == "" {
		msg = http.StatusText(code)
		if msg == "" {
			msg = "error"
		}
	}
	if e.Provider == "" || e.Provider == "gemini" {
		switch e.Type {
		case "INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE", "UNAUTHENTICATED", "PERMISSION_DENIED",
			"NOT_FOUND", "ABORTED", "ALREADY_EXISTS", "RESOURCE_EXHAUSTED", "CANCELLED", "DATA_LOSS", "UNKNOWN",
			"INTERNAL", "UNIMPLEMENTED", "UNAVAILABLE", "DEADLINE_EXCEEDED":
			return code, msg, e.Type
		}
	}
	switch code {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		status = "INVALID_ARGUMENT"
	case http.StatusUnauthorized:
		status = "UNAUTHENTICATED"
	case http.StatusForbidden:
		status = "PERMISSION_DENIED"
	case http.StatusNotFound:
		status = "NOT_FOUND"
	case http.StatusConflict:
		status = "ABORTED"
	case http.StatusTooManyRequests:
		status = "RESOURCE_EXHAUSTED"
	case 499:
		status = "CANCELLED"
	case http.StatusNotImplemented:
		status = "UNIMPLEMENTED"
	case http.StatusBadGateway, http.StatusServiceUnavailable, 529:
		status = "UNAVAILABLE"
	case http.StatusGatewayTimeout:
		status = "DEADLINE_EXCEEDED"
	default:
		switch {
		case code < 500 && e.Kind == providers.KindBadRequest:
			status = "INVALID_ARGUMENT"
		case code < 500:
			status = "FAILED_PRECONDITION"
		default:
			status = "INTERNAL"
		}
	}
	return code, msg, status
}

// EncodeError renders e as Gemini's error body {"error":{"code","message","status"}}, to send
// with e.Status(); errorObject says how the status name is chosen.
func EncodeError(e *providers.Error) []byte {
	return appendError(make([]byte, 0, 80+len(e.Message)), e)
}

// EncodeStreamError appends e as an in-band error of an SSE stream, `data: {"error":{…}}\r\n\r\n`
// with the object EncodeError renders, for an error after the stream has started; the caller
// closes the stream after it. A StreamEncoder's EncodeError does the same in either framing.
func EncodeStreamError(dst []byte, e *providers.Error) []byte {
	dst = append(dst, "data: "...)
	dst = appendError(dst, e)
	return append(dst, "\r\n\r\n"...)
}

func appendError(dst []byte, e *providers.Error) []byte {
	code, msg, status := errorObject(e)
	dst = append(dst, `{"error":{"code":`...)
	dst = strconv.AppendInt(dst, int64(code), 10)
	dst = append(dst, `,"message":`...)
	dst = appendJSONString(dst, msg)
	dst = append(dst, `,"status":`...)
	dst = appendJSONString(dst, status)
	return append(dst, '}', '}')
}

// DecodeError turns a Gemini error response body into a *providers.Error that keeps the status,
// the message, the status string as type and code, and retry (the Retry-After value; Gemini's
// RetryInfo detail stands in when it is empty). Used by the front door when it forwards.
func DecodeError(status int, retry string, raw []byte) *providers.Error {
	type envelope struct {
		Error *gError `json:"error"`
	}
	var env envelope
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var arr []envelope
		if json.Unmarshal(trimmed, &arr) == nil && len(arr) > 0 {
			env = arr[0]
		}
	} else {
		_ = json.Unmarshal(trimmed, &env)
	}
	if env.Error != nil {
		if retry == "" {
			retry = retryDelay(env.Error.Details)
		}
		return providers.UpstreamError("gemini", status, env.Error.Message, env.Error.Status, env.Error.Status, retry)
	}
	msg := fmt.Sprintf("Gemini returned HTTP %d", status)
	if s := strings.TrimSpace(string(trimmed)); s != "" && len(s) <= 200 {
		msg += ": " + s
	}
	return providers.UpstreamError("gemini", status, msg, "", "", retry)
}

// errorFrom builds the *providers.Error for a Gemini error object; status is used when the
// object carries no code.
func errorFrom(e *gError, status int, retryAfter string) *providers.Error {
	if e.Code >= 400 && e.Code <= 599 {
		status = e.Code
	}
	if retryAfter == "" {
		retryAfter = retryDelay(e.Details)
	}
	return providers.UpstreamError("gemini", status, e.Message, e.Status, e.Status, retryAfter)
}

// retryDelay reads the google.rpc.RetryInfo detail ("retryDelay":"17s" or "1.5s") that Gemini puts
// on 429s instead of a Retry-After header, as whole seconds (rounded up).
func retryDelay(details json.RawMessage) string {
	if len(details) == 0 || !bytes.Contains(details, []byte("retryDelay")) {
		return ""
	}
	var ds []struct {
		RetryDelay string `json:"retryDelay"`
	}
	if json.Unmarshal(details, &ds) != nil {
		return ""
	}
	for _, d := range ds {
		s, ok := strings.CutSuffix(d.RetryDelay, "s")
		if !ok || s == "" {
			continue
		}
		whole, frac, _ := strings.Cut(s, ".")
		n := 0
		for _, c := range whole {
			if c < '0' || c > '9' || n > 1e6 {
				n = -1
				break
			}
			n = n*10 + int(c-'0')
		}
		if n < 0 {
			continue
		}
		if strings.Trim(frac, "0") != "" {
			n++
		}
		return strconv.Itoa(n)
	}
	return ""
}

// badJSON turns a decoding error into a 400 that names the offending field in wire terms.
func badJSON(err error) *providers.Error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "request body"
		}
		return providers.Errorf(providers.KindBadRequest, "invalid JSON payload: %s: cannot use a JSON %s here", field, te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return providers.Errorf(providers.KindBadRequest, "invalid JSON payload: %s (at byte %d)", se.Error(), se.Offset)
	}
	return providers.Errorf(providers.KindBadRequest, "invalid JSON payload: %s", strings.TrimPrefix(err.Error(), "json: "))
}
