package routes

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Listener is the server's listener with what fasthttp leaves out at the connection level:
//
//   - Accept survives running out of file descriptors (EMFILE, ENFILE) and the like: it waits,
//     backing off up to a second as net/http does, and tries again, where fasthttp would end
//     Serve (and the program) on the first such error.
//   - Every write to a client must make progress within the write timeout: a client that stops
//     reading is cut off then. The deadline is per write, not per response, so a stream that
//     is read may run as long as it lasts (SPEC §10).
//   - Close also closes the connections that never sent a byte: fasthttp counts such a
//     connection as busy from the moment it is accepted, so a shutdown would otherwise wait its
//     whole timeout for a client that is never going to send a request.
//   - A new connection's first byte (and its TLS handshake) must come within FirstByteTimeout:
//     fasthttp, set to give its read buffer back between requests (ReduceMemoryUsage), waits
//     for that byte before it sets its own read deadline.
//
// Build it with NewListener over the TCP (or TLS) listener and hand it to the fiber app.
type Listener struct {
	net.Listener
	// FirstByteTimeout bounds the wait for a new connection's first byte; 0: none. Set it
	// before the first Accept, to the server's read timeout.
	FirstByteTimeout time.Duration

	writeTimeout time.Duration
	log          *slog.Logger

	closing chan struct{}
	once    sync.Once

	mu    sync.Mutex
	conns map[*edgeConn]struct{}
	// lastLog is when Accept last reported an error it retries; reported at most every few seconds.
	lastLog time.Time
}

// NewListener wraps ln. writeTimeout bounds each write to a client (0: none); log receives the
// accept errors it survives (nil discards).
func NewListener(ln net.Listener, writeTimeout time.Duration, log *slog.Logger) *Listener {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Listener{Listener: ln, writeTimeout: writeTimeout, log: log,
		closing: make(chan struct{}), conns: map[*edgeConn]struct{}{}}
}

const (
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
	acceptLogEvery   = 5 * time.Second
	// writeChunk is the most one write hands the kernel under one deadline: a slow but reading
	// client renews the deadline every writeChunk bytes, however large the answer.
	writeChunk = 64 << 10
)

// Accept returns the next connection. Errors that pass (descriptors running out) are waited
// out; it returns only the listener's end and errors that will not pass.
func (l *Listener) Accept() (net.Conn, error) {
	var delay time.Duration
	for {
		c, err := l.Listener.Accept()
		if err == nil {
			return l.track(c), nil
		}
		if !retryable(err) {
			return nil, err
		}
		delay = min(max(2*delay, acceptBackoffMin), acceptBackoffMax)
		l.mu.Lock()
		if now := time.Now(); now.Sub(l.lastLog) >= acceptLogEvery {
			l.lastLog = now
			l.log.Warn("accepting a connection failed; retrying", "error", err.Error(), "retry_in", delay.String())
		}
		l.mu.Unlock()
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-l.closing:
			t.Stop()
			return nil, net.ErrClosed
		}
	}
}

// retryable reports whether an accept error will likely pass: descriptors running out (EMFILE,
// ENFILE) or another temporary error; never the listener being closed. (Go's accept already
// retries a connection aborted before it was accepted.)
func retryable(err error) bool {
	if errors.Is(err, net.ErrClosed) {
		return false
	}
	if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
		return true
	}
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// Close stops accepting and closes every connection that has not sent a byte yet; connections
// in the middle of a request, or between two (fasthttp closes those), are left alone. It may be
// called more than once.
func (l *Listener) Close() error {
	var err error
	l.once.Do(func() {
		close(l.closing)
		err = l.Listener.Close()
		l.mu.Lock()
		var idle []*edgeConn
		for c := range l.conns {
			if !c.started.Load() {
				idle = append(idle, c)
			}
		}
		l.mu.Unlock()
		for _, c := range idle {
			c.Close()
		}
	})
	return err
}

func (l *Listener) track(nc net.Conn) net.Conn {
	if l.FirstByteTimeout > 0 {
		_ = nc.SetReadDeadline(time.Now().Add(l.FirstByteTimeout))
	}
	c := &edgeConn{Conn: nc, l: l}
	l.mu.Lock()
	l.conns[c] = struct{}{}
	l.mu.Unlock()
	if tc, ok := nc.(*tls.Conn); ok {
		return edgeTLSConn{edgeConn: c, tls: tc}
	}
	return c
}

func (l *Listener) forget(c *edgeConn) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
}

// edgeConn is one client connection of a Listener.
type edgeConn struct {
	net.Conn
	l *Listener
	// started is set by the first byte read: from then on the connection carries requests.
	started atomic.Bool
	// userDeadline is the write deadline a caller set (UnixNano, 0 = none); each write's own
	// deadline never extends past it.
	userDeadline atomic.Int64
	closeOnce    sync.Once
}

func (c *edgeConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && !c.started.Load() {
		c.started.Store(true)
	}
	return n, err
}

// Write writes p in pieces of at most writeChunk, each of which must reach the kernel within
// the write timeout.
func (c *edgeConn) Write(p []byte) (int, error) {
	if c.l.writeTimeout <= 0 {
		return c.Conn.Write(p)
	}
	written := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), writeChunk)]
		deadline := time.Now().Add(c.l.writeTimeout)
		if u := c.userDeadline.Load(); u != 0 && u < deadline.UnixNano() {
			deadline = time.Unix(0, u)
		}
		if err := c.Conn.SetWriteDeadline(deadline); err != nil {
			return written, err
		}
		n, err := c.Conn.Write(chunk)
		written += n
		if err != nil {
			return written, err
		}
		p = p[n:]
	}
	return written, nil
}

func (c *edgeConn) SetWriteDeadline(t time.Time) error {
	c.setUserDeadline(t)
	return c.Conn.SetWriteDeadline(t)
}

func (c *edgeConn) SetDeadline(t time.Time) error {
	c.setUserDeadline(t)
	return c.Conn.SetDeadline(t)
}

func (c *edgeConn) setUserDeadline(t time.Time) {
	var u int64
	if !t.IsZero() {
		u = t.UnixNano()
	}
	c.userDeadline.Store(u)
}

func (c *edgeConn) Close() error {
	c.closeOnce.Do(func() { c.l.forget(c) })
	return c.Conn.Close()
}

// SyscallConn exposes the socket, so a stream's watch for the client leaving (peerClosed) works
// through the wrapper.
func (c *edgeConn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return nil, errors.New("not a socket")
	}
	return sc.SyscallConn()
}

// edgeTLSConn is an edgeConn over TLS. It keeps what fasthttp and the stream watch look for on
// a TLS connection: the handshake state (c.Protocol() is "https") and the socket beneath.
type edgeTLSConn struct {
	*edgeConn
	tls *tls.Conn
}

func (c edgeTLSConn) Handshake() error                     { return c.tls.Handshake() }
func (c edgeTLSConn) ConnectionState() tls.ConnectionState { return c.tls.ConnectionState() }
func (c edgeTLSConn) NetConn() net.Conn                    { return c.tls.NetConn() }
