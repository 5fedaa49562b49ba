package gateway

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/aigateway/ai-gateway/providers"
)

// Refusal is the gateway's own "no": a request it does not pass on because of the caller's key
// (auth), the client's policy (permission), its limits (rate limited) or what was sent
// (validation, not found). It is nobody's upstream error, so it has none of providers.Error's
// upstream fields (provider, upstream type); the edge writes it in the caller's protocol through
// the same codecs as an upstream's error, which is what As is for.
type Refusal struct {
	Kind providers.ErrorKind
	// Status overrides the status that Kind gives (e.g. 415, 426); zero keeps Kind's.
	Status int
	// Code and Param name the failing rule and field for the caller ("model_not_allowed", "model").
	Code, Param string
	// Message is a clear sentence for the caller; it never holds a secret.
	Message string
	// RetryAfter is how long a rate-limited caller should wait; zero when not limited.
	RetryAfter time.Duration
}

func (r *Refusal) Error() string { return r.Message }

// HTTPStatus is the status the caller sees.
func (r *Refusal) HTTPStatus() int { return r.Wire().Status() }

// Wire is the refusal as the protocol codecs write it: a fresh *providers.Error each call, so
// that a door redacting or editing it never touches the refusal.
func (r *Refusal) Wire() *providers.Error {
	e := &providers.Error{Kind: r.Kind, HTTPStatus: r.Status, Code: r.Code, Param: r.Param, Message: r.Message}
	if r.RetryAfter > 0 {
		e.RetryAfter = strconv.FormatInt(int64(ceilSeconds(r.RetryAfter)/time.Second), 10)
	}
	return e
}

// As lets errors.As find a refusal as a *providers.Error: the front doors' encoders and the
// in-band stream errors speak that type.
func (r *Refusal) As(target any) bool {
	e, ok := target.(**providers.Error)
	if ok {
		*e = r.Wire()
	}
	return ok
}

// refusalOf is a validation failure that the providers package reports (providers.CheckModelID)
// as the gateway's refusal.
func refusalOf(err error) *Refusal {
	e := providers.AsError(err)
	return &Refusal{Kind: e.Kind, Status: e.HTTPStatus, Code: e.Code, Param: e.Param, Message: e.Message}
}

// Refused reports whether err is the gateway's own refusal rather than an upstream's failure.
func Refused(err error) bool {
	var r *Refusal
	return errors.As(err, &r)
}

// wireError is err as the caller will see it: a refusal's or an upstream's error as it is, and
// anything else as an internal error that reveals nothing.
func wireError(err error) *providers.Error {
	var e *providers.Error
	if errors.As(err, &e) {
		return e
	}
	return &providers.Error{Kind: providers.KindInternal, HTTPStatus: http.StatusInternalServerError, Message: "internal error"}
}
