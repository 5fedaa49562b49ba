package routes

import (
	"bufio"
	"context"
	"errors"
	"io"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/gateway"
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
	// keepalive is written when the upstream has been silent for keepaliveEvery, so that a gone
	// client is noticed (a write fails) even while nothing else is sent. Empty = none.
	keepalive []byte
	// done runs once, after the stream is over and next will not be called again.
	// clientGone is true when a write to the client failed; err is the upstream's error, if any.
	done func(clientGone bool, err error)
}

const (
	keepaliveEvery = 300 * time.Millisecond
	// writeTimeout bounds one write to a client that stopped reading; the stream is then dropped.
	writeTimeout = 60 * time.Second
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
	// Some upstreams echo the key they were sent in error events: it never reaches the client.
	cl, _ := c.Locals(localClient).(*gateway.Client)
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		chunks := make(chan relayChunk, relayBuffer)
		stop := make(chan struct{})
		produced := make(chan struct{})
		go func() {
			defer close(produced)
			defer r.close()
			for {
				b, err := r.next(nil)
				if cl != nil {
					b = cl.Redact(b)
				}
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

		var upstreamErr error
		clientGone := false
		write := func(b []byte) bool {
			if conn != nil {
				_ = conn.SetWriteDeadline(time.Now().Add(writeTimeout))
			}
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
			}
		}
		close(stop)
		if clientGone {
			r.cancel()
		}
		<-produced
		r.cancel()
		if conn != nil {
			_ = conn.SetWriteDeadline(time.Time{})
		}
		r.done(clientGone, upstreamErr)
	})
}
