package providers

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Connection bounds of the upstream client. The wait for response headers as a whole (dial and
// handshake included) is bounded by upstream.header_timeout in Do; these only stop one dial or
// one handshake from using all of it.
const (
	dialTimeout         = 30 * time.Second
	tlsHandshakeTimeout = 10 * time.Second
	idleConnTimeout     = 90 * time.Second
	// maxIdlePerHost keeps a connection for each of many concurrent HTTP/1.1 requests to one
	// provider (net/http's default of 2 would close all but two after every burst).
	maxIdlePerHost = 256
	maxIdle        = 1024
	// maxResponseHeaderBytes bounds what is read before a response's headers are complete.
	maxResponseHeaderBytes = 1 << 20
)

// NewHTTPClient returns the HTTP client every provider shares for every upstream call: net/http's
// Transport, speaking HTTP/2 where the upstream offers it (many streams on one connection) and
// keeping a large idle pool for HTTP/1.1 ones, with the proxy from the environment (HTTPS_PROXY,
// HTTP_PROXY, NO_PROXY) and no transparent compression (bodies are relayed as they come).
//
// It never follows a redirect: the request carries the operator's upstream key, which must not be
// replayed to wherever a Location points. Do turns a 3xx into an error (see RedirectError). It has
// no total timeout, since a stream may legally run for many minutes; Do bounds the wait for
// headers and the silence between bytes instead.
func NewHTTPClient() *http.Client {
	tlsConfig := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ClientSessionCache: tls.NewLRUClientSessionCache(256),
		NextProtos:         []string{"h2", "http/1.1"},
	}
	d := &upstreamDialer{tcp: net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}, tls: tlsConfig}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:          http.ProxyFromEnvironment,
			DialContext:    d.dial,
			DialTLSContext: d.dialTLS,
			// Custom dialers or a TLSClientConfig turn automatic HTTP/2 off; this turns it back on.
			ForceAttemptHTTP2: true,
			// Used for an https upstream reached through a proxy (CONNECT), where net/http does
			// the handshake itself.
			TLSClientConfig:        tlsConfig,
			TLSHandshakeTimeout:    tlsHandshakeTimeout,
			MaxIdleConns:           maxIdle,
			MaxIdleConnsPerHost:    maxIdlePerHost,
			IdleConnTimeout:        idleConnTimeout,
			ExpectContinueTimeout:  time.Second,
			DisableCompression:     true,
			MaxResponseHeaderBytes: maxResponseHeaderBytes,
		},
		CheckRedirect: refuseRedirect,
	}
}

// refuseRedirect makes an http.Client hand a 3xx back as the response instead of following it.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// isRedirect reports a 3xx status: nothing the gateway asks an upstream for is answered that way
// except by a redirect (or a misconfigured proxy), and none of it is passed on.
func isRedirect(status int) bool { return status >= 300 && status < 400 }

// RedirectError is the *Error for an upstream that answered with a redirect: a 502 naming the
// status and the host it pointed to, never the rest of the Location (its path or query may carry
// a signed token).
func RedirectError(provider string, resp *http.Response) *Error {
	where := "another location"
	if loc, err := url.Parse(resp.Header.Get("Location")); err == nil && loc.Host != "" {
		where = loc.Host
	}
	return &Error{Kind: KindUpstream, HTTPStatus: http.StatusBadGateway, Provider: provider,
		Message: fmt.Sprintf("upstream answered %d redirect to %s; the gateway does not follow upstream redirects",
			resp.StatusCode, where)}
}
