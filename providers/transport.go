package providers

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Transport is the upstream HTTP/1.1 client every provider shares, an http.RoundTripper.
//
// net/http's Transport gives each connection a reader and a writer goroutine, so one request is
// handed between three goroutines about five times. On a small machine those wake-ups cost more
// than everything else the gateway does for a request. Here a request is written and its answer
// read on the caller's goroutine, on a pooled keep-alive connection: no hand-offs at all.
//
// Requests that go through a proxy (Proxy), and schemes other than http and https, are given to
// Fallback. HTTP/2 is not spoken: every request in flight has a connection of its own.
type Transport struct {
	// Fallback serves what this transport does not (see above). Required.
	Fallback http.RoundTripper
	// Proxy, when set, says which requests go through a proxy (http.ProxyFromEnvironment).
	Proxy func(*http.Request) (*url.URL, error)
	// TLSConfig is the base client TLS configuration; ServerName is set per host.
	TLSConfig *tls.Config
	// DialTimeout bounds connecting, TLSHandshakeTimeout the TLS handshake.
	DialTimeout         time.Duration
	TLSHandshakeTimeout time.Duration
	// IdleTimeout is how long an unused connection is kept; MaxIdlePerHost how many are kept
	// per host.
	IdleTimeout    time.Duration
	MaxIdlePerHost int

	mu       sync.Mutex
	idle     map[string][]*conn
	sweeping bool
}

// maxResponseHeaderBytes bounds what is read before a response's headers are complete.
const maxResponseHeaderBytes = 1 << 20

// errHeadersTooLarge is returned for an answer whose headers exceed maxResponseHeaderBytes.
var errHeadersTooLarge = errors.New("upstream response headers exceed 1 MiB")

// RoundTrip sends req on a pooled connection (or a new one) and reads the response headers.
// The body is read from the same connection; it goes back to the pool once read to the end.
// Cancelling req's context closes the connection at once, whatever the request is waiting for.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL == nil || (req.URL.Scheme != "http" && req.URL.Scheme != "https") || req.URL.Host == "" {
		return t.Fallback.RoundTrip(req)
	}
	if t.Proxy != nil {
		if u, err := t.Proxy(req); err != nil || u != nil {
			return t.Fallback.RoundTrip(req)
		}
	}
	ctx := req.Context()
	key := connKey(req.URL)
	for attempt := 0; ; attempt++ {
		c, reused := t.get(key)
		if c == nil {
			var err error
			if c, err = t.dial(ctx, req.URL); err != nil {
				closeBody(req)
				return nil, err
			}
		}
		resp, retry, err := t.exchange(ctx, c, req, reused)
		if err == nil {
			return resp, nil
		}
		if !retry || attempt > 0 || req.GetBody == nil {
			closeBody(req)
			return nil, err
		}
		// A reused connection failed before the request was written: the server never saw it,
		// so send it again, with a fresh body, on another connection.
		body, gerr := req.GetBody()
		if gerr != nil {
			return nil, err
		}
		req = req.Clone(ctx)
		req.Body = body
	}
}

// exchange writes req on c and reads the response headers. retry reports a failure on a reused
// connection before anything reached the server.
func (t *Transport) exchange(ctx context.Context, c *conn, req *http.Request, reused bool) (*http.Response, bool, error) {
	stop := context.AfterFunc(ctx, c.abort)
	fail := func(err error) error {
		stop()
		c.close()
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return err
	}
	if err := req.Write(c.bw); err != nil {
		return nil, false, fail(err)
	}
	if err := c.bw.Flush(); err != nil {
		return nil, reused && c.written == 0, fail(err)
	}
	c.in.limit = maxResponseHeaderBytes
	var resp *http.Response
	for {
		var err error
		resp, err = http.ReadResponse(c.br, req)
		if err != nil {
			if errors.Is(err, errHeadersTooLarge) || c.in.limit <= 0 {
				err = errHeadersTooLarge
			}
			return nil, false, fail(err)
		}
		// 1xx answers precede the real one (101 switches protocols and is final).
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	c.in.limit = -1
	reusable := !resp.Close && !req.Close && resp.StatusCode != http.StatusSwitchingProtocols
	b := &body{t: t, c: c, stop: stop, reusable: reusable}
	if resp.Body == http.NoBody || resp.Body == nil {
		b.finish(true)
		resp.Body = http.NoBody
		return resp, false, nil
	}
	b.inner = resp.Body
	resp.Body = b
	return resp, false, nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// body is a response body read straight from its connection. At the end of the body the
// connection goes back to the pool; closed early or failed, the connection is closed.
type body struct {
	t        *Transport
	c        *conn
	inner    io.ReadCloser
	stop     func() bool
	reusable bool

	mu   sync.Mutex
	done bool
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.inner.Read(p)
	if err != nil {
		b.finish(err == io.EOF)
	}
	return n, err
}

// Close closes the connection unless the body was read to the end. It never drains: an
// upstream that is still streaming is cut off, which is what a client that stops reading wants.
func (b *body) Close() error {
	b.finish(false)
	return nil
}

func (b *body) finish(atEOF bool) {
	b.mu.Lock()
	if b.done {
		b.mu.Unlock()
		return
	}
	b.done = true
	b.mu.Unlock()
	// stop reports false when the context was cancelled and the connection is being closed.
	if b.stop() && atEOF && b.reusable {
		b.t.put(b.c)
		return
	}
	b.c.close()
}
