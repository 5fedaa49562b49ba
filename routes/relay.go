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

const (
	keepaliveEvery = 200 * time.Millisecond
	// relayBuffer is how many chunks may wait for a slow client before the upstream read blocks.
	relayBuffer = 8
)

type relayChunk struct {
	b   []byte
	err error
}

// streamHeaders prepares a streamed response; nothing reaches the client before the first chunk.
func streamHeaders(c *fiber.Ctx, contentType string) {
	c.Status(fiber.StatusOK)
	c.Set(fiber.HeaderContentType, contentType)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set("X-Accel-Buffering", "no")
}

// start hands the stream to fasthttp. The handler returns right after; the writer runs once the
// headers are out. Every chunk is flushed as soon as it arrives; the upstream is read by its own
// goroutine through a small bounded buffer, so a slow client slows the upstream read instead of
// making the gateway buffer without bound.
func (r relay) start(c *fiber.Ctx) {
	conn := c.Context().Conn()
	// This writer starts at once, while the handler may still be watching the client: two
	// watches on one connection fight over its read deadline (one resets it while the other
	// waits, which then waits forever), so the relay's watch begins after the handler's ended.
	handlerWatch, _ := c.Locals(localClientWatch).(<-chan struct{})
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		chunks := make(chan relayChunk, relayBuffer)
		stop := make(chan struct{})
		produced := make(chan struct{})
		go func() {
			defer close(produced)
			defer r.close()
			for {
				b, err := r.next(nil)
				select {
				case chunks <- relayChunk{b, err}:
				case <-stop:
					return
				}
				if err != nil {
					return
				}
			}
		}()

		// A client that closes its connection is noticed at once, not at the next write: the
		// relay writes through fasthttp's pipe, so a failed write surfaces only two writes later.
		if handlerWatch != nil {
			<-handlerWatch
		}
		gone, unwatch := watchClient(conn)
		defer unwatch()

		var upstreamErr error
		clientGone := false
		// A client that stopped reading is dropped by the Listener's per-write deadline
		// (server.write_timeout): the write fails, and so does the stream.
		write := func(b []byte) bool {
			if _, err := w.Write(b); err != nil {
				return false
			}
			return w.Flush() == nil
		}
		timer := time.NewTimer(keepaliveEvery)
		defer timer.Stop()
	loop:
		for {
			select {
			case ch := <-chunks:
				if len(ch.b) > 0 && !write(ch.b) {
					clientGone = true
					break loop
				}
				if ch.err != nil {
					if !errors.Is(ch.err, io.EOF) {
						upstreamErr = ch.err
					}
					break loop
				}
				timer.Reset(keepaliveEvery)
			case <-timer.C:
				if len(r.keepalive) > 0 && !write(r.keepalive) {
					clientGone = true
					break loop
				}
				timer.Reset(keepaliveEvery)
			case <-gone:
				clientGone = true
				break loop
			}
		}
		close(stop)
		if clientGone {
			r.cancel()
		}
		<-produced
		r.cancel()
		r.done(clientGone, upstreamErr)
	})
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
	w := &handlerWatch{conn: conn, cancel: cancel, over: make(chan struct{})}
	c.Locals(localClientWatch, (<-chan struct{})(w.over))
	w.timer = time.AfterFunc(watchAfter, w.start)
	return w.stop
}

// handlerWatch is one cancelIfClientLeaves, in one allocation: most calls end before watchAfter
// and use nothing but the timer and over.
type handlerWatch struct {
	conn   net.Conn
	cancel context.CancelFunc
	timer  *time.Timer
	// over is closed when the watch has ended (stop returned).
	over chan struct{}

	mu    sync.Mutex
	ended bool
	// Set once the watch started: waited is closed by stop, watched when the watching goroutine
	// is gone; unwatch ends the connection's watch.
	waited, watched chan struct{}
	unwatch         func()
}

// start begins watching the connection (the timer's func), unless stop came first.
func (w *handlerWatch) start() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended {
		return
	}
	gone, unwatch := watchClient(w.conn)
	w.unwatch, w.waited, w.watched = unwatch, make(chan struct{}), make(chan struct{})
	go func(waited, done chan struct{}) {
		defer close(done)
		select {
		case <-gone:
			w.cancel()
		case <-waited:
		}
	}(w.waited, w.watched)
}

// stop ends the watch: at once when it never started, else once the watching goroutine is gone.
func (w *handlerWatch) stop() {
	w.timer.Stop()
	w.mu.Lock()
	w.ended = true
	started := w.waited != nil
	w.mu.Unlock()
	if started {
		close(w.waited)
		w.unwatch()
		<-w.watched
	}
	close(w.over)
}

// watchClient watches conn for the client closing it while a stream is written (the way
// net/http's background read does). gone is closed when that happens; it is nil (never ready)
// when conn can't be watched. unwatch stops the watch and must be called before the stream
// writer returns, so that fasthttp can read the connection's next request.
func watchClient(conn net.Conn) (gone <-chan struct{}, unwatch func()) {
	if !watchable(conn) {
		return nil, func() {}
	}
	// The request is read by now: the read timeout that bounded it must not end the watch
	// (peerClosed waits under the connection's read deadline).
	_ = conn.SetReadDeadline(time.Time{})
	ch := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		if peerClosed(conn) {
			close(ch)
		}
	}()
	return ch, func() {
		_ = conn.SetReadDeadline(time.Unix(1, 0)) // wakes the watch
		<-stopped
		_ = conn.SetReadDeadline(time.Time{})
	}
}
