package providers

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrHeaderTimeout and ErrIdleTimeout are the causes of a request cancelled by Do's timers.
var (
	ErrHeaderTimeout = errors.New("no response headers from upstream within the timeout")
	ErrIdleTimeout   = errors.New("no data from upstream within the idle timeout")
)

// Do sends req with cfg.HTTPClient. The wait for response headers is bounded by cfg.HeaderTimeout
// and the silence between two body reads by cfg.IdleTimeout; there is no total timeout, so a
// ten-minute stream is fine. Closing the returned body cancels the upstream request; once Do
// returned an error, or Close returned, req's body is not read any more (net/http may still be
// writing it when an upstream answered early), so the caller may reuse its bytes.
//
// Redirects are never followed, whatever client cfg carries: a 3xx is a RedirectError (502).
//
// Errors are *Error: KindTimeout when a timer fired, KindCanceled when req's context was
// cancelled, KindUnavailable when the upstream could not be reached, KindUpstream (502) for a
// redirect. Any other HTTP status is a response, not an error.
func Do(cfg *Config, req *http.Request) (*http.Response, error) {
	// The call's context, the answer's body, the request body's guard and one timer for both
	// bounds, allocated together (by NewRequest): the timer bounds the wait for headers, then the
	// silence between body reads. A request made otherwise, or sent a second time, gets its own.
	body := callOf(req.Context())
	if body == nil || !body.sent.CompareAndSwap(false, true) {
		body = new(idleBody)
		body.ctx, body.cancel = context.WithCancelCause(req.Context())
		body.sent.Store(true)
		req = req.WithContext(context.WithValue(body.ctx, upstreamCallKey{}, body))
	}
	ctx, cancel := body.ctx, body.cancel
	if cfg.HeaderTimeout > 0 {
		body.timer = time.AfterFunc(cfg.HeaderTimeout, body.expire)
	}
	var attempt upstreamSpan
	if cfg.Propagator != nil {
		attempt = traceRequest(cfg.Propagator, req)
	}
	body.guard.track(req)
	resp, err := send(cfg.HTTPClient, req)
	body.reading.Store(true)
	if body.timer != nil && (err != nil || cfg.IdleTimeout <= 0) {
		body.timer.Stop()
		body.timer = nil
	}
	attempt.answered(resp)
	if err != nil {
		cause := context.Cause(ctx)
		cancel(nil)
		body.guard.release()
		if cause != nil && !errors.Is(cause, context.Canceled) {
			err = cause
		}
		e := AsError(err)
		e.Provider = cfg.Backend
		return nil, e
	}
	body.rc = resp.Body
	if isRedirect(resp.StatusCode) {
		body.Close()
		return nil, RedirectError(cfg.Backend, resp)
	}
	if cfg.IdleTimeout > 0 {
		body.idle = cfg.IdleTimeout
		if body.timer != nil {
			body.timer.Reset(cfg.IdleTimeout)
		} else {
			body.timer = time.AfterFunc(cfg.IdleTimeout, body.expire)
		}
	}
	resp.Body = body
	return resp, nil
}

// send makes one round trip with client's transport. No redirect is followed, so that no client
// (http.DefaultClient included) replays the request and its upstream key to wherever a Location
// points: a 3xx comes back as the response. Going to the transport directly also spares what
// http.Client does for redirects on every request (a copy of the request's headers). A client
// with a cookie jar or a total timeout goes through http.Client, redirects still refused.
func send(client *http.Client, req *http.Request) (*http.Response, error) {
	if client == nil {
		client = http.DefaultClient
	}
	if client.Jar != nil || client.Timeout > 0 {
		c := *client
		c.CheckRedirect = refuseRedirect
		return c.Do(req)
	}
	rt := client.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		// As http.Client reports it: the method and the address (without a password) with the cause.
		u := *req.URL
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "***")
		}
		method := req.Method
		if method == "" {
			method = http.MethodGet
		}
		return nil, &url.Error{Op: method[:1] + strings.ToLower(method[1:]), URL: u.String(), Err: err}
	}
	if resp.Body == nil {
		resp.Body = http.NoBody
	}
	return resp, nil
}

// idleBody cancels the request when no Read completes within idle, and on Close.
type idleBody struct {
	rc     io.ReadCloser
	ctx    context.Context
	cancel context.CancelCauseFunc
	// ownsBody is true when the request's body is its own (NewRequest's copy, or what
	// NewRequestOwned was given); sent once Do took the call.
	ownsBody bool
	sent     atomic.Bool
	idle     time.Duration
	// timer cancels the request: first when the headers are late, then (reading set) when the
	// body falls silent for idle.
	timer   *time.Timer
	reading atomic.Bool
	once    sync.Once
	// guard is released on Close: net/http may still be writing the request body.
	guard bodyGuard
}

// expire is the timer's func: the cause says which bound was exceeded.
func (b *idleBody) expire() {
	if b.reading.Load() {
		b.cancel(ErrIdleTimeout)
	} else {
		b.cancel(ErrHeaderTimeout)
	}
}

func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if b.timer != nil && n > 0 {
		b.timer.Reset(b.idle)
	}
	if err != nil && err != io.EOF {
		if cause := context.Cause(b.ctx); cause != nil {
			err = cause
		}
	}
	return n, err
}

func (b *idleBody) Close() error {
	var err error
	b.once.Do(func() {
		if b.timer != nil {
			b.timer.Stop()
		}
		err = b.rc.Close()
		b.cancel(context.Canceled)
		b.guard.release()
	})
	return err
}
