package providers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// ErrorKind classifies a failure; each front door maps a kind to its own error type and status.
type ErrorKind uint8

const (
	KindInternal    ErrorKind = iota // a bug or an unexpected state in the gateway: 500
	KindBadRequest                   // the request is malformed or unsupported: 400
	KindAuth                         // bad or missing key: 401
	KindPermission                   // not allowed (e.g. model not in the whitelist): 403
	KindNotFound                     // unknown model or route: 404
	KindTooLarge                     // body or prompt too large: 413
	KindRateLimited                  // rate limit or quota: 429
	KindUpstream                     // the upstream answered with an error status: its status is kept
	KindUnavailable                  // the upstream could not be reached: 502
	KindTimeout                      // the upstream did not answer in time: 504
	KindCanceled                     // the caller went away: 499
)

// Error is a failure with the status the caller should see.
type Error struct {
	Kind ErrorKind
	// Status is the HTTP status for the caller; Status() fills it from Kind when zero.
	HTTPStatus int
	// Message is a clear sentence for the caller; it never contains a secret.
	Message string
	// Type and Code are the upstream's own error type/code when there was one (e.g. "invalid_request_error").
	Type  string
	Code  string
	Param string
	// RetryAfter is the Retry-After value to pass on (seconds), if any.
	RetryAfter string
	// Provider is the backend id that produced the error, if any.
	Provider string
}

func (e *Error) Error() string {
	if e.Provider != "" {
		return fmt.Sprintf("%s: %s", e.Provider, e.Message)
	}
	return e.Message
}

// Status is the HTTP status the caller should get.
func (e *Error) Status() int {
	if e.HTTPStatus != 0 {
		return e.HTTPStatus
	}
	switch e.Kind {
	case KindBadRequest:
		return http.StatusBadRequest
	case KindAuth:
		return http.StatusUnauthorized
	case KindPermission:
		return http.StatusForbidden
	case KindNotFound:
		return http.StatusNotFound
	case KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case KindRateLimited:
		return http.StatusTooManyRequests
	case KindUpstream:
		return http.StatusBadGateway
	case KindUnavailable:
		return http.StatusBadGateway
	case KindTimeout:
		return http.StatusGatewayTimeout
	case KindCanceled:
		return 499
	}
	return http.StatusInternalServerError
}

// Errorf builds an *Error of kind with a formatted message.
func Errorf(kind ErrorKind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// KindForStatus maps an upstream HTTP status to an error kind.
func KindForStatus(status int) ErrorKind {
	switch {
	case status == http.StatusBadRequest, status == http.StatusUnprocessableEntity:
		return KindBadRequest
	case status == http.StatusUnauthorized:
		return KindAuth
	case status == http.StatusForbidden:
		return KindPermission
	case status == http.StatusNotFound:
		return KindNotFound
	case status == http.StatusRequestEntityTooLarge:
		return KindTooLarge
	case status == http.StatusTooManyRequests:
		return KindRateLimited
	case status == http.StatusGatewayTimeout:
		return KindTimeout
	}
	return KindUpstream
}

// UpstreamError builds the *Error for an upstream error response: the status is passed on as is.
func UpstreamError(provider string, status int, message, typ, code, retryAfter string) *Error {
	if message == "" {
		message = fmt.Sprintf("upstream returned HTTP %d", status)
	}
	return &Error{Kind: KindForStatus(status), HTTPStatus: status, Message: message, Type: typ, Code: code,
		RetryAfter: retryAfter, Provider: provider}
}

// AsError converts any error into an *Error: *Error is returned as is, context errors become
// KindCanceled / KindTimeout, everything else KindUnavailable (the upstream could not be used).
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	switch {
	case errors.Is(err, context.Canceled):
		return &Error{Kind: KindCanceled, Message: "request cancelled"}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, ErrIdleTimeout), errors.Is(err, ErrHeaderTimeout):
		return &Error{Kind: KindTimeout, Message: "upstream timed out: " + err.Error()}
	}
	return &Error{Kind: KindUnavailable, Message: "upstream unreachable: " + err.Error()}
}
