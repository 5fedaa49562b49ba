package routes

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/gateway"
)

// localKey namespaces values stored in fiber's Locals by this package.
type localKey int

const (
	localRequestID localKey = iota
	// localKeyHint is the last 4 characters of the caller's client key, set by the client-key
	// middleware; it is the only trace of a key that may reach a log.
	localKeyHint
	localSession
	localUser
	// localActor names who is acting in the admin API, for the audit log ("admin", "token:ci").
	localActor
	// localClient is the authenticated *gateway.Client of a front-door request: the error
	// handler and the stream relay redact its upstream key from what they pass on.
	localClient
	// localClientWatch is the handler's watch on the client (cancelIfClientLeaves, a
	// *handlerWatch): the stream relay starts its own once that one has ended.
	localClientWatch
)

// HeaderRequestID is kept from the caller when sane, else generated, and sent on every response.
const HeaderRequestID = "X-Request-Id"

// requestID keeps a sane caller-supplied X-Request-Id or makes one, and echoes it.
func (s *server) requestID(c *fiber.Ctx) error {
	ensureRequestID(c)
	return c.Next()
}

// ensureRequestID is idempotent: the error handler also calls it, for errors fasthttp raises
// before any middleware ran (e.g. a body over the limit).
func ensureRequestID(c *fiber.Ctx) string {
	if id, ok := c.Locals(localRequestID).(string); ok {
		return id
	}
	id := c.Get(HeaderRequestID)
	if !saneRequestID(id) {
		id = newRequestID()
	} else {
		id = strings.Clone(id) // fiber's strings point into a buffer reused after the request
	}
	c.Locals(localRequestID, id)
	c.Set(HeaderRequestID, id)
	return id
}

// requestIDOf returns the request's id ("" before the middleware ran).
func requestIDOf(c *fiber.Ctx) string {
	id, _ := c.Locals(localRequestID).(string)
	return id
}

// saneRequestID accepts 1–128 characters that are safe in headers and logs.
func saneRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		b := id[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || strings.IndexByte("-_.:/+=@", b) >= 0) {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails
	return hex.EncodeToString(b[:])
}

// contentSecurityPolicy lets admin pages load only their own embedded assets: no inline script
// or style, no framing, forms and fetches (htmx, WebSocket) to this origin only.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets the headers of SPEC §11 on every response.
func (s *server) securityHeaders(c *fiber.Ctx) error {
	s.setSecurityHeaders(c)
	return c.Next()
}

func (s *server) setSecurityHeaders(c *fiber.Ctx) {
	h := &c.Response().Header
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	if s.Config.Server.HTTPS.Enabled {
		h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	}
	if isAdminPath(c.Path()) {
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set(fiber.HeaderCacheControl, "no-store")
	}
}

func isAdminPath(p string) bool { return p == "/admin" || strings.HasPrefix(p, "/admin/") }

// accessLog writes one structured line per request. Errors returned by handlers are rendered
// here (through the error handler) so the line has the final status. Never logged: query strings
// (Gemini SDKs put keys in ?key=), headers, bodies. A client key appears only as its hint.
func (s *server) accessLog(c *fiber.Ctx) error {
	start := time.Now()
	if err := c.Next(); err != nil {
		if herr := s.errorHandler(c, err); herr != nil {
			c.Status(fiber.StatusInternalServerError)
		}
	}
	status := c.Response().StatusCode()
	var room [8]slog.Attr // every attribute below, on the stack
	attrs := append(room[:0],
		slog.String("method", c.Method()),
		slog.String("path", c.Path()),
		slog.Int("status", status),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		slog.String("request_id", requestIDOf(c)),
		slog.String("ip", s.clientIP(c)),
	)
	if hint, ok := c.Locals(localKeyHint).(string); ok && hint != "" {
		attrs = append(attrs, slog.String("key_hint", hint))
	}
	if actor, ok := c.Locals(localActor).(string); ok && actor != "" {
		attrs = append(attrs, slog.String("actor", actor))
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelWarn
	}
	// The record goes to the handler without its caller's program counter, which Logger.LogAttrs
	// would look up on every request for a source the access log never prints.
	ctx, h := c.UserContext(), s.log.Handler()
	if h.Enabled(ctx, level) {
		r := slog.NewRecord(time.Now(), level, "request", 0)
		r.AddAttrs(attrs...)
		_ = h.Handle(ctx, r)
	}
	return nil
}

// redactAnswer keeps the client's upstream key out of every whole answer a front door sends,
// forwarded or translated: some upstreams echo the headers they were sent. Streams are scrubbed
// chunk by chunk in the relay and errors in the error handler (it renders them after this
// returns); every other body passes here, with one bytes.Contains when it is clean.
func (s *server) redactAnswer(c *fiber.Ctx) error {
	err := c.Next()
	cl, ok := c.Locals(localClient).(*gateway.Client)
	if !ok || c.Response().IsBodyStream() {
		return err
	}
	if b := c.Response().Body(); cl.Leaks(b) {
		c.Response().SetBodyRaw(cl.Redact(b)) // Redact's result is a new slice, not the response buffer
	}
	return err
}

// recoverPanic turns a panic in a handler into a 500 and logs the stack once.
func (s *server) recoverPanic(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic in handler", "request_id", requestIDOf(c), "path", c.Path(),
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = errPanic
		}
	}()
	return c.Next()
}
