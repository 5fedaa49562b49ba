//go:build unix

package routes

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"testing"
	"time"
)

// watchPair is a server-side connection (plain TCP or TLS) and the client's end of it.
func watchPair(t *testing.T, useTLS bool, version uint16) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		accepted <- c
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv := <-accepted
	if srv == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { raw.Close(); srv.Close() })
	if !useTLS {
		return srv, raw
	}
	cert := selfSignedCert(t)
	ts := tls.Server(srv, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: version, MaxVersion: version})
	tc := tls.Client(raw, &tls.Config{InsecureSkipVerify: true, MinVersion: version, MaxVersion: version})
	errs := make(chan error, 1)
	go func() { errs <- ts.Handshake() }()
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	return ts, tc
}

func selfSignedCert(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestWatchClient: the relay notices a client that closes its connection (plain TCP, TLS 1.2,
// TLS 1.3), never mistakes a request sent ahead for a goodbye, and leaves that request's bytes
// for the server to read.
func TestWatchClient(t *testing.T) {
	conns := []struct {
		name    string
		tls     bool
		version uint16
	}{
		{"tcp", false, 0},
		{"tls1.2", true, tls.VersionTLS12},
		{"tls1.3", true, tls.VersionTLS13},
	}
	const pipelined = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
	for _, c := range conns {
		t.Run(c.name+"/client closes", func(t *testing.T) {
			srv, cl := watchPair(t, c.tls, c.version)
			gone, unwatch := watchClient(srv)
			defer unwatch()
			select {
			case <-gone:
				t.Fatal("gone before the client closed")
			default:
			}
			cl.Close()
			<-gone // the test times out if the close is never noticed
		})
		if c.tls {
			t.Run(c.name+"/close_notify before the TCP close", func(t *testing.T) {
				srv, cl := watchPair(t, c.tls, c.version)
				if err := cl.(*tls.Conn).CloseWrite(); err != nil { // sends close_notify only
					t.Fatal(err)
				}
				if !peerClosed(srv) {
					t.Fatal("close_notify not taken for the client leaving")
				}
			})
		}
		t.Run(c.name+"/request sent ahead", func(t *testing.T) {
			srv, cl := watchPair(t, c.tls, c.version)
			if _, err := io.WriteString(cl, pipelined); err != nil {
				t.Fatal(err)
			}
			// peerClosed returns as soon as the bytes are readable.
			if peerClosed(srv) {
				t.Fatal("a pipelined request was taken for a closed connection")
			}
			buf := make([]byte, len(pipelined))
			if _, err := io.ReadFull(srv, buf); err != nil || string(buf) != pipelined {
				t.Fatalf("the server read %q, %v; want the request intact", buf, err)
			}
		})
		t.Run(c.name+"/unwatch", func(t *testing.T) {
			srv, cl := watchPair(t, c.tls, c.version)
			gone, unwatch := watchClient(srv)
			unwatch()
			select {
			case <-gone:
				t.Fatal("unwatch reported the client gone")
			default:
			}
			// The connection works as before: no deadline is left behind.
			go io.WriteString(cl, "ping")
			buf := make([]byte, 4)
			if _, err := io.ReadFull(srv, buf); err != nil || string(buf) != "ping" {
				t.Fatalf("read after unwatch: %q, %v", buf, err)
			}
		})
	}
}

func TestClosingTLS(t *testing.T) {
	tests := []struct {
		name string
		h    []byte
		want bool
	}{
		{"TLS 1.2 alert", []byte{21, 3, 3, 0, 26}, true},
		{"alert, header cut short", []byte{21}, true},
		{"TLS 1.3 close_notify, 16-byte tag", []byte{23, 3, 3, 0, 19}, true},
		{"TLS 1.3 close_notify, 8-byte tag", []byte{23, 3, 3, 0, 11}, true},
		{"application data: a request", []byte{23, 3, 3, 0, 80}, false},
		{"TLS 1.3 key update (22 bytes)", []byte{23, 3, 3, 0, 22}, false},
		{"application data, header cut short", []byte{23, 3, 3}, false},
		{"handshake", []byte{22, 3, 1, 0, 200}, false},
		{"nothing", nil, false},
	}
	for _, tt := range tests {
		if got := closingTLS(tt.h); got != tt.want {
			t.Errorf("%s: closingTLS(%v) = %v, want %v", tt.name, tt.h, got, tt.want)
		}
	}
}
