package routes

import (
	"context"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/gateway"
)

// Front doors: the protocols clients speak.
const (
	doorOpenAI    = "openai"
	doorAnthropic = "anthropic"
	doorGemini    = "gemini"
)

// clientAuth is the front doors' middleware: the caller's client key (from any header an SDK
// puts it in, SPEC §4, §6.1) picks the client, or the request ends with a 401 in the door's shape.
// The key's last four characters go to the access log (never more of it).
func (s *server) clientAuth(c *fiber.Ctx) error {
	key := clientKey(c)
	if len(key) >= 16 {
		c.Locals(localKeyHint, key[len(key)-4:])
	}
	cl, err := s.Gateway.Authenticate(key)
	if err != nil {
		// In the request history (rate-limited, key hint only), so "401 bad key" finds them.
		s.Gateway.Unauthorized(s.admission(c, "", strings.Clone(c.Path()), c.Context().Time()), key, err)
		return err
	}
	c.Locals(localClient, cl)
	return c.Next()
}

// clientOf is the client clientAuth found, and when the request was received: the moment the
// server had read it whole and began handling it (fasthttp's RequestCtx.Time), the start of its
// latency and of the gateway's overhead.
func clientOf(c *fiber.Ctx) (*gateway.Client, time.Time) {
	cl, _ := c.Locals(localClient).(*gateway.Client)
	return cl, c.Context().Time()
}

// admission is the part of gateway.Admission every front door fills in the same way.
func (s *server) admission(c *fiber.Ctx, door, endpoint string, received time.Time) gateway.Admission {
	return gateway.Admission{Endpoint: endpoint, FrontDoor: door, RequestID: requestIDOf(c),
		ClientIP: s.clientIP(c), Received: received}
}

// serve runs an exchange through the gateway's one upstream call point and writes the answer:
// a whole body, or a stream relayed frame by frame. The x-ratelimit-* headers go on every
// answer, refusals included; an error is written by the error handler in the door's shape.
func (s *server) serve(c *fiber.Ctx, x *gateway.Exchange) error {
	ctx, cancelCause := s.upstreamContext(c)
	cancel := func() { cancelCause(nil) }
	x.Cancel = cancelCause // the context is this exchange's alone: the call ends through it
	stopWatch := cancelIfClientLeaves(c, cancel)
	a, err := s.Gateway.Do(ctx, x)
	stopWatch()
	setHeaders(c, a.Limits)
	if err != nil {
		cancel()
		return err
	}
	if st := a.Stream; st != nil {
		streamHeaders(c, st.ContentType())
		relay{
			next:      st.Next,
			close:     func() { st.Close() },
			cancel:    cancel,
			keepalive: st.Keepalive(),
			done:      st.End,
		}.start(c)
		return nil
	}
	cancel()
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	// Copied into the response's own buffer, so the answer's pooled memory goes back now.
	c.Status(fiber.StatusOK).Response().SetBody(a.Body)
	a.Release()
	return nil
}

// call runs an exchange whose answer the front door encodes itself (model lists, translated
// embeddings) and sets the x-ratelimit-* headers.
func (s *server) call(c *fiber.Ctx, x *gateway.Exchange) (*gateway.Answer, error) {
	ctx, cancelCause := s.upstreamContext(c)
	cancel := func() { cancelCause(nil) }
	x.Cancel = cancelCause
	defer cancel()
	defer cancelIfClientLeaves(c, cancel)()
	a, err := s.Gateway.Do(ctx, x)
	setHeaders(c, a.Limits)
	return a, err
}

// setHeaders writes the x-ratelimit-* headers (fasthttp copies each value).
func setHeaders(c *fiber.Ctx, l gateway.RateLimits) {
	h := &c.Response().Header
	l.Each(func(name string, value []byte) { h.SetBytesV(name, value) })
}

// upstreamContext is the context of one upstream call, with the caller's trace context when
// tracing is on (callerTrace). It is not the fiber context (fasthttp reuses those), and it
// outlives the handler while a stream is relayed; cancel ends it, and so does cancelling
// Deps.UpstreamContext (its cause becomes the error the caller sees).
func (s *server) upstreamContext(c *fiber.Ctx) (context.Context, context.CancelCauseFunc) {
	ctx, cancel := context.WithCancelCause(s.UpstreamContext)
	return s.callerTrace(c, ctx), cancel
}
