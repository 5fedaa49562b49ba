package providers

import (
	"context"
	"crypto/tls"
	"net"
)

// net/http dials on a context detached from the request's cancellation, so that a connection
// still being made when its request is cancelled can serve a later one. For the gateway that
// leaves a client who left holding an upstream socket (and a TLS handshake) open until the dial
// or handshake timeout. upstreamDialer ties each dial back to the request that started it: the
// request's context holds its upstream call (upstreamCallKey; net/http keeps context values), and
// a dial whose call is cancelled is cut at once, in the TCP connect or in the TLS handshake.

// owned returns ctx cancelled also when the request that started the dial is (its upstream
// call, recorded in its context under upstreamCallKey).
func owned(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	owner := callOf(ctx)
	if owner == nil {
		return ctx, cancel
	}
	stop := context.AfterFunc(owner.ctx, cancel)
	return ctx, func() { stop(); cancel() }
}

// upstreamDialer makes the upstream client's connections: TCP, and TLS over it for https.
type upstreamDialer struct {
	tcp net.Dialer
	tls *tls.Config
}

// dial connects over TCP (plain http upstreams and proxies).
func (d *upstreamDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	ctx, cancel := owned(ctx)
	defer cancel()
	return d.tcp.DialContext(ctx, network, addr)
}

// dialTLS connects and completes the TLS handshake, offering HTTP/2 and HTTP/1.1. A cancelled
// owner or the handshake timeout closes the socket.
func (d *upstreamDialer) dialTLS(ctx context.Context, network, addr string) (net.Conn, error) {
	ctx, cancel := owned(ctx)
	defer cancel()
	raw, err := d.tcp.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	cfg := d.tls.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName, _, _ = net.SplitHostPort(addr)
	}
	tc := tls.Client(raw, cfg)
	hctx, hcancel := context.WithTimeout(ctx, tlsHandshakeTimeout)
	defer hcancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		raw.Close()
		return nil, err
	}
	return tc, nil
}
