//go:build unix

package routes

import (
	"errors"
	"net"
	"syscall"
)

// TLS record content types.
const (
	tlsAlert           = 21
	tlsApplicationData = 23
)

// closingTLS reports whether a TLS record header (type, version, length) starts what a client
// sends when it closes the connection, rather than a request it sent ahead. Up to TLS 1.2 that is
// an alert record. TLS 1.3 encrypts alerts as application data; there a close_notify is a record
// of 19 bytes (2 alert bytes, the inner type, a 16-byte AEAD tag; 11 with an 8-byte tag), and
// no HTTP request fits in so few.
func closingTLS(h []byte) bool {
	if len(h) == 0 {
		return false
	}
	if h[0] == tlsAlert {
		return true
	}
	if h[0] != tlsApplicationData || len(h) < 5 {
		return false
	}
	n := int(h[3])<<8 | int(h[4])
	return n == 19 || n == 11
}

// peerClosed blocks until conn is readable and reports whether that is because the peer closed
// the connection: end of stream, a reset, or under TLS an alert record. It peeks (MSG_PEEK), so
// bytes a client sent ahead (a pipelined request) are left for the server to read, and it returns
// false at once when such bytes are pending, or when conn is no socket. Setting a read deadline
// in the past makes it return false.
func peerClosed(conn net.Conn) bool {
	sc, ok := socketOf(conn)
	if !ok {
		return false
	}
	_, isTLS := conn.(interface{ NetConn() net.Conn })
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var (
		buf    [5]byte
		closed bool
	)
	err = raw.Read(func(fd uintptr) bool {
		n, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK)
		switch {
		case errors.Is(rerr, syscall.EAGAIN), errors.Is(rerr, syscall.EINTR):
			return false // not readable yet: wait in the poller
		case rerr != nil:
			closed = true // reset or another socket error: the client is gone
		case n == 0:
			closed = true // orderly close
		case isTLS && closingTLS(buf[:n]):
			closed = true // close_notify (or a fatal alert): the client is leaving
		}
		return true
	})
	return err == nil && closed
}

// watchable reports whether peerClosed can watch conn: a socket, or TLS over one.
func watchable(conn net.Conn) bool {
	_, ok := socketOf(conn)
	return ok
}

func socketOf(conn net.Conn) (syscall.Conn, bool) {
	if u, ok := conn.(interface{ NetConn() net.Conn }); ok { // TLS: watch the socket beneath
		conn = u.NetConn()
	}
	sc, ok := conn.(syscall.Conn)
	return sc, ok
}
