package providers

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"net/url"
	"time"
)

// conn is one upstream connection with its buffers.
type conn struct {
	net.Conn          // what requests are written to: raw, or TLS over it
	raw      net.Conn // the socket, closed to abort whatever is blocked on it
	key      string
	in       connReader
	br       *bufio.Reader
	bw       *bufio.Writer
	written  int64
	idleAt   time.Time
}

// connReader reads the connection for the bufio.Reader, failing once limit bytes have been
// read while it is positive (the response headers' bound); -1 is no limit.
type connReader struct {
	c     *conn
	limit int64
}

func (r *connReader) Read(p []byte) (int, error) {
	if r.limit == 0 {
		return 0, errHeadersTooLarge
	}
	if r.limit > 0 && int64(len(p)) > r.limit {
		p = p[:r.limit]
	}
	n, err := r.c.Conn.Read(p)
	if r.limit > 0 {
		r.limit -= int64(n)
	}
	return n, err
}

// countingWriter counts what reached the connection, so a failed write of nothing can be retried.
type countingWriter struct{ c *conn }

func (w countingWriter) Write(p []byte) (int, error) {
	n, err := w.c.Conn.Write(p)
	w.c.written += int64(n)
	return n, err
}

func newConn(key string, raw, c net.Conn) *conn {
	cn := &conn{Conn: c, raw: raw, key: key}
	cn.in = connReader{c: cn, limit: -1}
	cn.br = bufio.NewReaderSize(&cn.in, 4096)
	cn.bw = bufio.NewWriterSize(countingWriter{cn}, 4096)
	return cn
}

// abort closes the socket beneath, which unblocks any read or write on it at once.
func (c *conn) abort() { c.raw.Close() }

func (c *conn) close() {
	c.raw.Close()
	if c.Conn != c.raw {
		c.Conn.Close()
	}
}

func connKey(u *url.URL) string {
	return u.Scheme + "://" + hostPort(u)
}

func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// dial opens a connection to u's host, with TLS for https.
func (t *Transport) dial(ctx context.Context, u *url.URL) (*conn, error) {
	d := net.Dialer{Timeout: durationOr(t.DialTimeout, 30*time.Second), KeepAlive: 30 * time.Second}
	raw, err := d.DialContext(ctx, "tcp", hostPort(u))
	if err != nil {
		return nil, err
	}
	if u.Scheme != "https" {
		return newConn(connKey(u), raw, raw), nil
	}
	cfg := &tls.Config{}
	if t.TLSConfig != nil {
		cfg = t.TLSConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = u.Hostname()
	}
	cfg.NextProtos = []string{"http/1.1"}
	tc := tls.Client(raw, cfg)
	hctx, cancel := context.WithTimeout(ctx, durationOr(t.TLSHandshakeTimeout, 10*time.Second))
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		raw.Close()
		return nil, err
	}
	return newConn(connKey(u), raw, tc), nil
}

func durationOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// get takes the most recently used idle connection to key that is still usable; reused reports
// that one was found.
func (t *Transport) get(key string) (c *conn, reused bool) {
	for {
		t.mu.Lock()
		list := t.idle[key]
		if len(list) == 0 {
			t.mu.Unlock()
			return nil, false
		}
		c = list[len(list)-1]
		list[len(list)-1] = nil
		t.idle[key] = list[:len(list)-1]
		t.mu.Unlock()
		if time.Since(c.idleAt) < t.idleTimeout() && idleConnUsable(c.raw) {
			c.written = 0
			return c, true
		}
		c.close()
	}
}

// put returns a connection whose answer was read to the end to the pool.
func (t *Transport) put(c *conn) {
	c.idleAt = time.Now()
	t.mu.Lock()
	if t.idle == nil {
		t.idle = map[string][]*conn{}
	}
	list := append(t.idle[c.key], c)
	var evicted *conn
	if max := t.maxIdlePerHost(); len(list) > max {
		evicted = list[0]
		list = append(list[:0], list[1:]...)
	}
	t.idle[c.key] = list
	sweep := !t.sweeping
	t.sweeping = true
	t.mu.Unlock()
	if evicted != nil {
		evicted.close()
	}
	if sweep {
		time.AfterFunc(t.idleTimeout(), t.sweep)
	}
}

// sweep closes connections idle for longer than the idle timeout, and runs again while any
// are left.
func (t *Transport) sweep() {
	cutoff := time.Now().Add(-t.idleTimeout())
	var old []*conn
	t.mu.Lock()
	left := 0
	for key, list := range t.idle {
		keep := list[:0]
		for _, c := range list {
			if c.idleAt.Before(cutoff) {
				old = append(old, c)
			} else {
				keep = append(keep, c)
			}
		}
		clear(list[len(keep):])
		if len(keep) == 0 {
			delete(t.idle, key)
		} else {
			t.idle[key] = keep
		}
		left += len(keep)
	}
	t.sweeping = left > 0
	t.mu.Unlock()
	for _, c := range old {
		c.close()
	}
	if left > 0 {
		time.AfterFunc(t.idleTimeout()/2, t.sweep)
	}
}

// CloseIdleConnections closes every idle connection (http.Client calls it).
func (t *Transport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = nil
	t.mu.Unlock()
	for _, list := range idle {
		for _, c := range list {
			c.close()
		}
	}
	if ci, ok := t.Fallback.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

func (t *Transport) idleTimeout() time.Duration { return durationOr(t.IdleTimeout, 90*time.Second) }

func (t *Transport) maxIdlePerHost() int {
	if t.MaxIdlePerHost > 0 {
		return t.MaxIdlePerHost
	}
	return 256
}
