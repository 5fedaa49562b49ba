package providers

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// hangBound only detects a hang: anything that should be prompt but takes this long is stuck.
const hangBound = 10 * time.Second

// newConns counts the connections a test server accepted.
type newConns struct{ n atomic.Int64 }

func (c *newConns) hook(_ net.Conn, s http.ConnState) {
	if s == http.StateNew {
		c.n.Add(1)
	}
}

// testConfig is a provider config with the gateway's upstream client.
func testConfig() *Config { return &Config{Backend: "test", HTTPClient: NewHTTPClient()} }

func post(t *testing.T, ctx context.Context, cfg *Config, url string, body io.Reader) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return Do(cfg, req)
}

// An upstream that refuses a large body answers before reading it and closes the connection
// while the body is still being written. Its answer, not the broken write, is what the caller
// must see: the status and the upstream's own message.
func TestEarly413ReachesClient(t *testing.T) {
	const message = `{"error":{"message":"request body exceeds the upstream's limit"}}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		io.WriteString(w, message)
	}))
	defer srv.Close()
	cfg := testConfig()
	body := bytes.Repeat([]byte("x"), 9<<20)
	for i := range 3 {
		resp, err := post(t, context.Background(), cfg, srv.URL, bytes.NewReader(body))
		if err != nil {
			t.Fatalf("attempt %d: %v (want the upstream's 413)", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || string(b) != message {
			t.Fatalf("attempt %d: got %d %q, want 413 %q", i, resp.StatusCode, b, message)
		}
	}
}

// Concurrent streams to an upstream that speaks HTTP/2 are multiplexed on one TLS connection
// instead of opening one each.
func TestHTTP2StreamsShareOneConnection(t *testing.T) {
	const streams = 32
	var started sync.WaitGroup
	started.Add(streams)
	allStarted := make(chan struct{})
	go func() { started.Wait(); close(allStarted) }()
	var conns newConns
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/warm" {
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"n\":1}\n\n")
		w.(http.Flusher).Flush()
		started.Done()
		// Every stream is open at once before any ends.
		select {
		case <-allStarted:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "data: [DONE]\n\n")
	}))
	srv.EnableHTTP2 = true
	srv.Config.ConnState = conns.hook
	srv.StartTLS()
	defer srv.Close()

	cfg := testConfig()
	cfg.HTTPClient.Transport.(*http.Transport).TLSClientConfig.RootCAs = srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	// One request first: until the handshake says h2, concurrent first requests each dial.
	warm, err := post(t, context.Background(), cfg, srv.URL+"/warm", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	warm.Body.Close()
	if warm.ProtoMajor != 2 {
		t.Fatalf("upstream offered HTTP/2 but the client spoke %s", warm.Proto)
	}

	ctx, cancel := context.WithTimeout(context.Background(), hangBound)
	defer cancel()
	errs := make(chan error, streams)
	for range streams {
		go func() {
			resp, err := post(t, ctx, cfg, srv.URL+"/stream", strings.NewReader("{}"))
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err == nil && !bytes.Contains(b, []byte("[DONE]")) {
				err = errors.New("stream incomplete: " + string(b))
			}
			errs <- err
		}()
	}
	for range streams {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := conns.n.Load(); n != 1 {
		t.Fatalf("%d concurrent streams used %d connections, want 1", streams, n)
	}
}

// A stream read to its last event and closed with CloseStream leaves its HTTP/1.1 connection
// for the next request, even when the end of the chunked body arrives after the last event.
func TestConnectionReuseAfterStreams(t *testing.T) {
	var conns newConns
	lastEventRead := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"n\":1}\n\n")
		w.(http.Flusher).Flush()
		io.WriteString(w, "data: [DONE]\n\n")
		w.(http.Flusher).Flush()
		// The chunked terminator follows when the handler returns: only after the client read
		// the last event, as when it arrives in a packet of its own.
		select {
		case <-lastEventRead:
		case <-r.Context().Done():
		}
	}))
	srv.Config.ConnState = conns.hook
	srv.Start()
	defer srv.Close()

	cfg := testConfig()
	for i := range 5 {
		resp, err := post(t, context.Background(), cfg, srv.URL, strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		if resp.ProtoMajor != 1 {
			t.Fatalf("want HTTP/1.1, got %s", resp.Proto)
		}
		sse := NewSSEReader(resp.Body)
		for {
			ev, err := sse.Next()
			if err != nil {
				t.Fatalf("stream %d ended before [DONE]: %v", i, err)
			}
			if string(ev.Data) == "[DONE]" {
				lastEventRead <- struct{}{}
				break
			}
		}
		if err := CloseStream(resp.Body, true); err != nil {
			t.Fatalf("close: %v", err)
		}
	}
	if n := conns.n.Load(); n != 1 {
		t.Fatalf("5 streams one after another used %d connections, want 1", n)
	}
}

// rawUpstream accepts TCP connections and hands each to serve; it reports when the client side
// of a connection went away (a read failed) on gone.
func rawUpstream(t *testing.T, serve func(c net.Conn, br *bufio.Reader)) (url string, gone <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	g := make(chan struct{}, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				serve(c, br)
				// Whatever the client still sends is drained; the read fails once it closed.
				io.Copy(io.Discard, br)
				g <- struct{}{}
			}()
		}
	}()
	return "http://" + ln.Addr().String(), g
}

// zeros is an endless request body.
type zeros struct{ read atomic.Int64 }

func (z *zeros) Read(p []byte) (int, error) {
	clear(p)
	z.read.Add(int64(len(p)))
	return len(p), nil
}

// Cancelling the request returns at once and closes the upstream connection, whatever the
// request is waiting for.
func TestCancelInEachPhase(t *testing.T) {
	readRequestHead := func(br *bufio.Reader) *http.Request {
		r, err := http.ReadRequest(br)
		if err != nil {
			return nil
		}
		return r
	}
	cancelled := make(chan struct{})
	phases := []struct {
		name string
		// serve plays the upstream; ready is closed when the client is in the phase.
		serve func(c net.Conn, br *bufio.Reader, ready chan<- struct{})
		body  func(ready chan<- struct{}) io.Reader
		// https: the upstream is dialled over TLS.
		https bool
		// readFirst reads the first body bytes before cancelling (the body-read phase).
		readFirst bool
	}{
		{name: "connecting (TLS handshake)", https: true,
			serve: func(c net.Conn, br *bufio.Reader, ready chan<- struct{}) {
				br.Peek(1) // the ClientHello arrived; no answer ever comes
				close(ready)
			}},
		{name: "writing the body",
			serve: func(c net.Conn, br *bufio.Reader, ready chan<- struct{}) {
				readRequestHead(br)
				// The body is not read until the client cancelled: its writes block once the
				// buffers are full. Then the drain ends only if the client closed the connection.
				<-cancelled
			},
			body: func(ready chan<- struct{}) io.Reader {
				z := &zeros{}
				// In the phase once the writes stall: the socket buffers are full.
				go func() {
					last := int64(-1)
					for n := z.read.Load(); n == 0 || n != last; n = z.read.Load() {
						last = n
						time.Sleep(100 * time.Millisecond)
					}
					close(ready)
				}()
				return z
			}},
		{name: "waiting for headers",
			serve: func(c net.Conn, br *bufio.Reader, ready chan<- struct{}) {
				if r := readRequestHead(br); r != nil {
					io.Copy(io.Discard, r.Body)
				}
				close(ready)
			}},
		{name: "reading the body", readFirst: true,
			serve: func(c net.Conn, br *bufio.Reader, ready chan<- struct{}) {
				if r := readRequestHead(br); r != nil {
					io.Copy(io.Discard, r.Body)
				}
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
				io.WriteString(c, "f\r\ndata: {\"n\":1}\n\n\r\n")
				close(ready)
			}},
	}
	for _, p := range phases {
		t.Run(p.name, func(t *testing.T) {
			ready := make(chan struct{})
			var once sync.Once
			readyOnce := make(chan struct{})
			go func() { <-ready; once.Do(func() { close(readyOnce) }) }()
			// The server side releases the connection only after the client closed it, so the
			// drain in rawUpstream is what proves the upstream connection was closed.
			url, gone := rawUpstream(t, func(c net.Conn, br *bufio.Reader) { p.serve(c, br, ready) })
			if p.https {
				url = "https" + strings.TrimPrefix(url, "http")
			}
			var body io.Reader = strings.NewReader("{}")
			if p.body != nil {
				body = p.body(ready)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			type result struct {
				err error
			}
			done := make(chan result, 1)
			go func() {
				resp, err := post(t, ctx, testConfig(), url, body)
				if err == nil {
					defer resp.Body.Close()
					buf := make([]byte, 64)
					if p.readFirst {
						if _, err := resp.Body.Read(buf); err != nil {
							done <- result{err}
							return
						}
					}
					_, err = io.ReadAll(resp.Body)
				}
				done <- result{err}
			}()
			select {
			case <-readyOnce:
			case <-time.After(hangBound):
				t.Fatal("the client never reached the phase")
			}
			if p.readFirst {
				// The first chunk is read (or about to be) and the upstream sends nothing more.
				time.Sleep(50 * time.Millisecond)
			}
			cancel()
			if p.body != nil {
				close(cancelled)
			}
			select {
			case r := <-done:
				if r.err == nil {
					t.Fatal("cancelled request succeeded")
				}
				if e := AsError(r.err); e.Kind != KindCanceled {
					t.Fatalf("error %v is kind %d, want KindCanceled", r.err, e.Kind)
				}
			case <-time.After(hangBound):
				t.Fatal("cancel did not return the request")
			}
			select {
			case <-gone:
			case <-time.After(hangBound):
				t.Fatal("the upstream connection was left open after cancel")
			}
		})
	}
}

// Do never follows a redirect, whichever client the config carries (none: http.DefaultClient's
// transport), and never names the Location's path or query.
func TestDoRefusesRedirects(t *testing.T) {
	var followed atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { followed.Add(1) }))
	defer target.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/steal?sig=s3cret", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	for _, cfg := range []*Config{testConfig(), {Backend: "test"}, {Backend: "test", HTTPClient: &http.Client{}}} {
		_, err := post(t, context.Background(), cfg, srv.URL, strings.NewReader("{}"))
		var e *Error
		if !errors.As(err, &e) || e.Status() != http.StatusBadGateway {
			t.Fatalf("got %v, want a 502 *Error", err)
		}
		if !strings.Contains(e.Message, "307 redirect") || !strings.Contains(e.Message, "does not follow upstream redirects") ||
			strings.Contains(e.Message, "s3cret") || strings.Contains(e.Message, "steal") {
			t.Fatalf("message %q", e.Message)
		}
	}
	if n := followed.Load(); n != 0 {
		t.Fatalf("the redirect target was contacted %d times", n)
	}
}

// lateReads is an endless request body that counts reads made after the call ended.
type lateReads struct {
	ended atomic.Bool
	late  atomic.Int64
}

func (r *lateReads) Read(p []byte) (int, error) {
	if r.ended.Load() {
		r.late.Add(1)
	}
	clear(p)
	return len(p), nil
}

// An upstream that answers before it read the body leaves net/http writing it after Do
// returned. Once the answer is closed the body is never read again: the gateway reuses its
// bytes for the next request.
func TestRequestBodyNotReadAfterCallEnds(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		w.(http.Flusher).Flush()
		io.Copy(io.Discard, r.Body) // keeps the client writing
	}))
	defer srv.Close()
	for range 20 {
		body := &lateReads{}
		resp, err := post(t, context.Background(), testConfig(), srv.URL, body)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		body.ended.Store(true)
		time.Sleep(20 * time.Millisecond) // room for a late read to show
		if n := body.late.Load(); n > 0 {
			t.Fatalf("the request body was read %d times after the call ended", n)
		}
	}
}
