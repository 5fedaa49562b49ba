package gemini

import (
	"net/http"
	"strconv"

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
