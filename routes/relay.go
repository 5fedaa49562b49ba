package routes

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

// relay is one streamed answer on its way to the client.
//
// next appends the next chunk of wire bytes to dst. At the end of the stream it returns the
// closing bytes (e.g. "data: [DONE]") together with io.EOF; when the upstream failed it returns
// the in-band error event together with the error. It is called from one goroutine only.
type relay struct {
	next func(dst []byte) ([]byte, error)
	// close releases the upstream; it runs after the last call to next.
	close func()
	// cancel cancels the upstream request; called as soon as the client is gone.
	cancel context.CancelFunc
	// keepalive is written when the upstream has been silent for keepaliveEvery. It keeps
	// proxies and clients from timing out, and where the connection cannot be watched (TLS,
	// non-unix) it is how a gone client is noticed: a write fails. Empty = none.
	keepalive []byte
	// done runs once, after the stream is over and next will not be called again.
	// clientGone is true when a write to the client failed; err is the upstream's error, if any.
	done func(clientGone bool, err error)
}

// keepaliveEvery is how long the upstream may be silent before the keepalive is written.
const keepaliveEvery = 200 * time.Millisecond

// streamHeaders prepares a streamed response; nothing reaches the client before the first chunk.
func streamHeaders(c *fiber.Ctx, contentType string) {
	c.Status(fiber.StatusOK)
	c.Set(fiber.HeaderContentType, contentType)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set("X-Accel-Buffering", "no")
}

// start hands the stream to fasthttp. The handler returns right after; the writer runs once the
// headers are out. One goroutine reads the upstream and writes each chunk, flushed, as soon as it
// arrives: a slow client slows the upstream read instead of making the gateway buffer. The
// keepalive is written by a timer under the same lock, and a client that leaves cancels the
// upstream read from the connection's watch: no goroutine of the stream waits on another.
func (r relay) start(c *fiber.Ctx) {
	conn := c.Context().Conn()
	// This writer starts at once, while the handler may still be watching the client: two
	// watches on one connection fight over its read deadline (one resets it while the other
	// waits, which then waits forever), so the relay's watch begins after the handler's ended.
	handlerWatch, _ := c.Locals(localClientWatch).(*handlerWatch)
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		s := &relayState{w: w, keepalive: r.keepalive, cancel: r.cancel}
		if len(r.keepalive) > 0 {
			// Set under the lock the timer's func takes before it reads the field: a keepalive
			// due before this goroutine went on would otherwise race with the assignment.
			s.mu.Lock()
			s.timer = time.AfterFunc(keepaliveEvery, s.keepaliveDue)
			s.mu.Unlock()
		}
		// A client that closes its connection is noticed at once, not at the next write: the
		// relay writes through fasthttp's pipe, so a failed write surfaces only two writes later.
		if handlerWatch != nil {
			handlerWatch.over.Wait()
		}
		unwatch := watchClientFunc(conn, s.leave)

		var upstreamErr error
		var buf []byte
		for {
			b, err := r.next(buf[:0])
			buf = b
			if s.write(b) != nil {
				break
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					upstreamErr = err
				}
				break
			}
		}
		clientGone := s.finish()
		unwatch()
		if clientGone {
			upstreamErr = nil // the upstream read failed because the client's leaving cancelled it
		}
		r.close()
		r.cancel()
		r.done(clientGone, upstreamErr)
	})
}

// relayState is what the relay's goroutine shares with its keepalive timer and its client
// watch: the client's writer and whether the client is gone, under one lock.
type relayState struct {
	w         *bufio.Writer
	keepalive []byte
	cancel    context.CancelFunc
	timer     *time.Timer // nil without a keepalive

	mu       sync.Mutex
	left     bool // the client is gone: a write failed, or the watch saw it close
	finished bool // the relay is over: nothing is written any more
}

// errClientGone is write's error once the client is gone.
var errClientGone = errors.New("the client is gone")

// write writes b and flushes it, then restarts the keepalive's wait.
func (s *relayState) write(b []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.left {
		return errClientGone
	}
	if len(b) > 0 {
		// A client that stopped reading is dropped by the Listener's per-write deadline
		// (server.write_timeout): the write fails, and so does the stream.
		if _, err := s.w.Write(b); err != nil || s.w.Flush() != nil {
			s.left = true
			s.cancel()
			return errClientGone
		}
	}
	if s.timer != nil {
		s.timer.Reset(keepaliveEvery)
	}
	return nil
}

// keepaliveDue writes the keepalive after keepaliveEvery of silence (the timer's func).
func (s *relayState) keepaliveDue() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.finished || s.left {
		return
	}
	if _, err := s.w.Write(s.keepalive); err != nil || s.w.Flush() != nil {
		s.left = true
		s.cancel() // ends the upstream read the relay waits in
		return
	}
	s.timer.Reset(keepaliveEvery)
}

// leave is the client watch's news that the client closed its connection: the upstream read is
// cancelled and nothing more is written.
func (s *relayState) leave() {
	s.mu.Lock()
	s.left = true
	s.mu.Unlock()
	s.cancel()
}

// finish ends the relay's writing (a keepalive due later writes nothing) and reports whether
// the client is gone.
func (s *relayState) finish() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.finished = true
	if s.timer != nil {
		s.timer.Stop()
	}
	return s.left
}

// watchAfter is how long an upstream call runs before the client is watched. Watching costs
// two goroutines and deadline changes; a call that is over sooner (a fast backend, a cache hit)
// skips it, and one that lasts (every real generation) is watched from then on.
const watchAfter = 20 * time.Millisecond

// cancelIfClientLeaves watches the client while the handler waits on the upstream (for its
// headers, or for a whole non-streamed answer): a client that closes its connection meanwhile
// cancels the upstream call at once instead of when it would have finished. The returned func
// ends the watch; call it (defer it) before the handler returns — the relay, which starts only
// after that, watches on its own.
func cancelIfClientLeaves(c *fiber.Ctx, cancel context.CancelFunc) (stop func()) {
	conn := c.Context().Conn()
	if !watchable(conn) {
		return func() {}
	}
	w := &handlerWatch{conn: conn, cancel: cancel}
	w.over.Add(1)
	c.Locals(localClientWatch, w)
	w.timer = time.AfterFunc(watchAfter, w.start)
	return w.stop
}

// handlerWatch is one cancelIfClientLeaves, in one allocation: most calls end before watchAfter
// and use nothing but the timer and over.
type handlerWatch struct {
	conn   net.Conn
	cancel context.CancelFunc
	timer  *time.Timer
	// over is done when the watch has ended (stop returned).
	over sync.WaitGroup

	mu    sync.Mutex
	ended bool
	// unwatch ends the connection's watch; set once the watch started.
	unwatch func()
}

// start begins watching the connection (the timer's func), unless stop came first. The watch
// cancels the call itself when the client leaves.
func (w *handlerWatch) start() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended {
		return
	}
	w.unwatch = watchClientFunc(w.conn, w.cancel)
}

// stop ends the watch: at once when it never started, else once the watch is over (it cancels
// nothing after that).
func (w *handlerWatch) stop() {
	w.timer.Stop()
	w.mu.Lock()
	w.ended = true
	unwatch := w.unwatch
	w.mu.Unlock()
	if unwatch != nil {
		unwatch()
	}
	w.over.Done()
}

// watchClient watches conn for the client closing it while a stream is written (the way
// net/http's background read does). gone is closed when that happens; it is nil (never ready)
// when conn can't be watched. unwatch stops the watch and must be called before the stream
// writer returns, so that fasthttp can read the connection's next request.
func watchClient(conn net.Conn) (gone <-chan struct{}, unwatch func()) {
	if !watchable(conn) {
		return nil, func() {}
	}
	ch := make(chan struct{})
	return ch, watchClientFunc(conn, func() { close(ch) })
}

// watchClientFunc is watchClient calling onGone, from the watch's own goroutine, when the client
// closed conn: no goroutine needs to wait on a channel for it. onGone is not called once unwatch
// returned.
func watchClientFunc(conn net.Conn, onGone func()) (unwatch func()) {
	if !watchable(conn) {
		return func() {}
	}
	// The request is read by now: the read timeout that bounded it must not end the watch
	// (peerClosed waits under the connection's read deadline).
	_ = conn.SetReadDeadline(time.Time{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		if peerClosed(conn) {
			onGone()
		}
	}()
	return func() {
		_ = conn.SetReadDeadline(time.Unix(1, 0)) // wakes the watch
		<-stopped
		_ = conn.SetReadDeadline(time.Time{})
	}
}
