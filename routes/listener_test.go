//go:build unix

package routes

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// listenerPair accepts one connection through a Listener (over TLS when useTLS) and returns the
// server's and the client's end.
func listenerPair(t *testing.T, l *Listener, useTLS bool) (server, client net.Conn) {
	t.Helper()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()
	raw, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	client = raw
	if useTLS {
		client = tls.Client(raw, &tls.Config{InsecureSkipVerify: true})
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return server, client
}

func newTestListener(t *testing.T, useTLS bool) *Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if useTLS {
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{selfSignedCert(t)}})
	}
	l := NewListener(ln, time.Minute, nil)
	t.Cleanup(func() { l.Close() })
	return l
}

// Through the Listener a connection is still what fasthttp and the stream watch look for: TLS
// state under TLS, and a socket to watch, so a client leaving is seen at once.
func TestListenerConnectionsStayWatchable(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		l := newTestListener(t, useTLS)
		server, client := listenerPair(t, l, useTLS)
		_, isTLS := server.(interface{ ConnectionState() tls.ConnectionState })
		if isTLS != useTLS {
			t.Errorf("tls=%v: the connection reports TLS state: %v", useTLS, isTLS)
		}
		if !watchable(server) {
			t.Fatalf("tls=%v: the connection cannot be watched", useTLS)
		}
		go func() {
			if useTLS {
				client.(*tls.Conn).Handshake()
			}
			client.Write([]byte("GET "))
			client.Close()
		}()
		server.SetReadDeadline(time.Now().Add(10 * time.Second))
		io.ReadFull(server, make([]byte, 4)) // (the handshake and) all the client sent
		server.SetReadDeadline(time.Now().Add(10 * time.Second))
		if !peerClosed(server) {
			t.Errorf("tls=%v: the client closing was not seen", useTLS)
		}
	}
}

// Close ends the connections that never sent a byte, and only those.
func TestListenerCloseEndsConnectionsThatNeverSentARequest(t *testing.T) {
	l := newTestListener(t, false)
	idleServer, idle := listenerPair(t, l, false)
	busyServer, busy := listenerPair(t, l, false)
	busy.Write([]byte("G"))
	busyServer.Read(make([]byte, 1))
	l.Close()

	idle.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := idle.Read(make([]byte, 1)); errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("the connection that never sent a byte is still open")
	}
	if _, err := busyServer.Write([]byte("HTTP/1.1 200 OK\r\n")); err != nil {
		t.Errorf("the connection with a request in flight was closed: %v", err)
	}
	if _, err := idleServer.Write([]byte("x")); err == nil {
		t.Errorf("the closed connection still writes")
	}
}

// Running out of descriptors is waited out; the listener's end is not.
func TestListenerRetriesOnlyErrorsThatPass(t *testing.T) {
	for err, want := range map[error]bool{
		&net.OpError{Op: "accept", Err: os.NewSyscallError("accept4", syscall.EMFILE)}: true,
		&net.OpError{Op: "accept", Err: os.NewSyscallError("accept4", syscall.ENFILE)}: true,
		&net.OpError{Op: "accept", Err: net.ErrClosed}:                                 false,
		&net.OpError{Op: "accept", Err: os.NewSyscallError("accept4", syscall.EINVAL)}: false,
	} {
		if got := retryable(err); got != want {
			t.Errorf("retryable(%v) = %v, want %v", err, got, want)
		}
	}
}
