package routes

import (
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/anthropic"
	"github.com/aigateway/ai-gateway/providers/gemini"
	"github.com/aigateway/ai-gateway/providers/openai"
	"github.com/aigateway/ai-gateway/views"
)

// errPanic is what recoverPanic returns; the panic itself was logged there.
var errPanic = errors.New("panic in handler")

// fieldErrors is a failed validation: field name → what is wrong with it. It is a 400.
type fieldErrors map[string]string

func (f fieldErrors) Error() string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + f[k]
	}
	return "invalid request: " + strings.Join(parts, "; ")
}

// kindForStatus maps a status fiber raised (404 route, 405, 413 body, 431 headers…) to a kind.
func kindForStatus(status int) providers.ErrorKind {
	if status >= 500 {
		return providers.KindInternal
	}
	if k := providers.KindForStatus(status); k != providers.KindUpstream {
		return k
	}
	return providers.KindBadRequest // 405, 431, …: the caller's request is at fault
}

// asEdgeError turns any error a handler returned into the *providers.Error the caller sees.
// Anything that is not already a typed error is internal: logged here, once, and replaced by a
// sentence that reveals nothing.
func (s *server) asEdgeError(c *fiber.Ctx, err error) *providers.Error {
	var pe *providers.Error
	var fe *fiber.Error
	var fields fieldErrors
	switch {
	case errors.As(err, &pe):
		if pe.Status() >= 500 && pe.Kind == providers.KindInternal {
			s.log.Error("internal error", "request_id", requestIDOf(c), "path", c.Path(), "error", pe.Message)
			return &providers.Error{Kind: providers.KindInternal, Message: "internal error"}
		}
		return pe
	case errors.As(err, &fields):
		return &providers.Error{Kind: providers.KindBadRequest, Code: "invalid_request", Message: fields.Error()}
	case errors.As(err, &fe):
		msg := fe.Message
		switch fe.Code {
		case fiber.StatusNotFound:
			msg = "no route for " + c.Method() + " " + c.Path()
		case fiber.StatusRequestEntityTooLarge:
			msg = "request body is larger than the 10 MB limit"
		case fiber.StatusRequestHeaderFieldsTooLarge:
			msg = "request headers are too large"
		}
		return &providers.Error{Kind: kindForStatus(fe.Code), HTTPStatus: fe.Code, Message: msg}
	case errors.Is(err, errPanic):
		return &providers.Error{Kind: providers.KindInternal, Message: "internal error"}
	}
	s.log.Error("internal error", "request_id", requestIDOf(c), "path", c.Path(), "error", err.Error())
	return &providers.Error{Kind: providers.KindInternal, Message: "internal error"}
}

// errorHandler is the single place errors become responses. The shape follows who is calling:
// the admin JSON API, an admin page, or a front door (Anthropic, Gemini, OpenAI — the default).
func (s *server) errorHandler(c *fiber.Ctx, err error) error {
	if requestIDOf(c) == "" {
		// fasthttp rejected the request before any middleware ran (body or headers too large).
		ensureRequestID(c)
		s.setSecurityHeaders(c)
		defer s.log.Info("request rejected", "method", c.Method(), "path", c.Path(),
			"status", c.Response().StatusCode(), "request_id", requestIDOf(c), "ip", s.clientIP(c))
	}
	e := s.asEdgeError(c, err)
	if cl, ok := c.Locals(localClient).(*gateway.Client); ok {
		e = cl.RedactError(e) // some upstreams echo the key they were sent in their errors
	}
	status := e.Status()
	if e.RetryAfter != "" {
		c.Set(fiber.HeaderRetryAfter, e.RetryAfter)
	}
	p := c.Path()
	switch {
	case strings.HasPrefix(p, "/admin/api/"):
		return c.Status(status).JSON(adminErrorBody(e, err))
	case isAdminPath(p):
		return s.renderErrorPage(c, status, e.Message)
	case strings.HasPrefix(p, "/v1/messages"), strings.HasPrefix(p, "/v1/models") && anthropicCaller(c):
		return sendProtocolError(c, status, anthropic.EncodeError(e))
	case strings.HasPrefix(p, "/v1beta/"):
		return sendProtocolError(c, status, gemini.EncodeError(e))
	}
	return sendProtocolError(c, status, openai.EncodeError(e))
}

// adminErrorBody is SPEC §8's {"error":{"message","code"}}, plus "fields" for a validation error.
func adminErrorBody(e *providers.Error, cause error) fiber.Map {
	body := fiber.Map{"message": e.Message, "code": adminErrorCode(e)}
	var fields fieldErrors
	if errors.As(cause, &fields) {
		body["fields"] = map[string]string(fields)
	}
	return fiber.Map{"error": body}
}

func adminErrorCode(e *providers.Error) string {
	if e.Code != "" {
		return e.Code
	}
	if e.Status() == http.StatusMethodNotAllowed {
		return "method_not_allowed"
	}
	switch e.Kind {
	case providers.KindBadRequest:
		return "bad_request"
	case providers.KindAuth:
		return "unauthorized"
	case providers.KindPermission:
		return "forbidden"
	case providers.KindNotFound:
		return "not_found"
	case providers.KindTooLarge:
		return "too_large"
	case providers.KindRateLimited:
		return "rate_limited"
	case providers.KindUpstream:
		return "upstream_error"
	case providers.KindUnavailable:
		return "upstream_unavailable"
	case providers.KindTimeout:
		return "upstream_timeout"
	case providers.KindCanceled:
		return "canceled"
	}
	return "internal"
}

// sendProtocolError writes a front door's error body, rendered by that protocol's codec: the same
// object its streams send in-band, so a client sees one error whether it comes before or after
// the stream started.
func sendProtocolError(c *fiber.Ctx, status int, body []byte) error {
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(body)
}

// renderErrorPage shows an error to a browser on an admin page.
func (s *server) renderErrorPage(c *fiber.Ctx, status int, message string) error {
	c.Status(status)
	c.Type("html", "utf-8")
	v := views.ErrorView{Assets: s.viewAssets(), Status: status, Message: message, RequestID: requestIDOf(c)}
	// A logged-in admin keeps the navigation (an unknown address never ran the session check).
	if sessionOf(c) == nil && status != fiber.StatusUnauthorized && s.Sessions != nil && c.Cookies(sessionCookie) != "" {
		_, _ = s.loadSession(c)
	}
	if sessionOf(c) != nil {
		p := s.page(c, "Error "+strconv.Itoa(status), "")
		return views.ErrorInShell(p, v).Render(c.UserContext(), c.Response().BodyWriter())
	}
	return views.ErrorPage(v).Render(c.UserContext(), c.Response().BodyWriter())
}

// headerOverflowPath is the path of a request whose headers did not fit the read buffer, read
// from the start of the buffer that fasthttp quotes in its error; "" when it cannot tell. Only
// the path is kept: the query (Gemini SDKs put keys in ?key=) and the headers are not.
func headerOverflowPath(err error) string {
	if !errors.As(err, new(*fasthttp.ErrSmallBuffer)) {
		return ""
	}
	_, quoted, ok := strings.Cut(err.Error(), "contents: ")
	if !ok {
		return ""
	}
	prefix, qerr := strconv.QuotedPrefix(quoted)
	if qerr != nil {
		return ""
	}
	head, qerr := strconv.Unquote(prefix)
	if qerr != nil {
		return ""
	}
	line, _, _ := strings.Cut(head, "\r\n")
	_, rest, _ := strings.Cut(line, " ")
	target, _, _ := strings.Cut(rest, " ")
	path, _, _ := strings.Cut(target, "?")
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") {
		return ""
	}
	return path
}
