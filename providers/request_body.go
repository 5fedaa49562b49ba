package providers

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"unsafe"
)

// net/http may still be reading a request body after RoundTrip returned: an upstream that
// answers early (a 413 before it read a large body) hands back its response while the body is
// being written, and the write stops only when the connection fails. The gateway's request
// bodies are buffers it reuses (the server's request buffer, pooled encoders) as soon as the
// call is over; an upstream must never receive another request's bytes from them. So every body
// given to net/http reads through a guard, and once the call is over the guard is shut: a read
// in progress finishes first, later reads fail without touching the buffer.

// A small body is cheaper to copy than to guard: NewRequest gives the request a private copy of
// it, which nothing reuses, so Do sends it unguarded. net/http then knows it for an in-memory
// body (a *bytes.Reader) and writes the request's headers and body in one write, where a guarded
// body costs a write for the headers and another for the body. Larger bodies are guarded.
const ownedBodyMax = 64 << 10

// upstreamCallKey is the context key of a request's upstream call (*idleBody): its
// cancellation, timer and body guard. NewRequest makes it with the request, so that Do need not
// copy the request to give it a context of its own; the dialer reads it to tie a dial to the
// request that started it (upstream_dial.go).
type upstreamCallKey struct{}

// NewRequest builds an upstream request with body (nil: none), to send with Do. A body of up to
// ownedBodyMax bytes is copied, so the caller may reuse body's bytes once NewRequest returned;
// a larger one is read in place, until the call is over (see Do).
func NewRequest(ctx context.Context, method, url string, body []byte) (*http.Request, error) {
	owned := false
	if body != nil && len(body) <= ownedBodyMax {
		body, owned = bytes.Clone(body), true
	}
	return newRequest(ctx, method, url, body, owned)
}

// NewRequestOwned is NewRequest, except that when owned is true the request keeps body: memory
// the caller made for this request alone (a policy rewrite's output, see Fresh) and never reads
// or writes again, however long net/http reads it. Such a body is sent as it is, of any size: no
// copy, no guard.
func NewRequestOwned(ctx context.Context, method, url string, body []byte, owned bool) (*http.Request, error) {
	if !owned {
		return NewRequest(ctx, method, url, body)
	}
	return newRequest(ctx, method, url, body, body != nil)
}

// Fresh reports whether out, a rewrite of in, is memory of its own: it shares no byte of in's
// array (a rewrite that changed nothing returns in itself). The caller then owns it when it owns
// nothing else pointing there, and may send it with NewRequestOwned.
func Fresh(out, in []byte) bool {
	if cap(out) == 0 || cap(in) == 0 {
		return cap(out) > 0
	}
	o, i := uintptr(unsafe.Pointer(unsafe.SliceData(out))), uintptr(unsafe.Pointer(unsafe.SliceData(in)))
	return o+uintptr(cap(out)) <= i || i+uintptr(cap(in)) <= o
}

func newRequest(ctx context.Context, method, url string, body []byte, owned bool) (*http.Request, error) {
	call := new(idleBody)
	call.ctx, call.cancel = context.WithCancelCause(ctx)
	call.ownsBody = owned
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.WithValue(call.ctx, upstreamCallKey{}, call), method, url, r)
	if err != nil {
		call.cancel(nil)
		return nil, err
	}
	return req, nil
}

// callOf is the upstream call NewRequest (or Do) made for req; nil for another request.
func callOf(ctx context.Context) *idleBody {
	c, _ := ctx.Value(upstreamCallKey{}).(*idleBody)
	return c
}

// ownsBody reports whether req's body is the request's own: a private copy NewRequest made, or
// what NewRequestOwned was given.
func ownsBody(req *http.Request) bool {
	c := callOf(req.Context())
	return c != nil && c.ownsBody
}

// errBodyReleased is what a request body read after its call ended returns.
var errBodyReleased = errors.New("request body read after the upstream call ended")

// bodyGuard guards the bodies of one request: the first, and any GetBody hands out.
type bodyGuard struct {
	mu       sync.Mutex
	released bool
}

// track replaces req's body and GetBody with guarded ones, unless the body is a private copy
// (NewRequest). Call it before req is sent.
func (g *bodyGuard) track(req *http.Request) {
	if req.Body == nil || req.Body == http.NoBody || ownsBody(req) {
		return
	}
	req.Body = &guardedBody{g: g, rc: req.Body}
	if get := req.GetBody; get != nil {
		req.GetBody = func() (io.ReadCloser, error) {
			rc, err := get()
			if err != nil || rc == nil || rc == http.NoBody {
				return rc, err
			}
			return &guardedBody{g: g, rc: rc}, nil
		}
	}
}

// release ends every read of the request's bodies; it returns once none is in progress.
func (g *bodyGuard) release() {
	g.mu.Lock()
	g.released = true
	g.mu.Unlock()
}

type guardedBody struct {
	g  *bodyGuard
	rc io.ReadCloser
}

func (b *guardedBody) Read(p []byte) (int, error) {
	b.g.mu.Lock()
	defer b.g.mu.Unlock()
	if b.g.released {
		return 0, errBodyReleased
	}
	return b.rc.Read(p)
}

func (b *guardedBody) Close() error { return b.rc.Close() }
