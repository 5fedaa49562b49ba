package routes

import (
	"context"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/providers"
)

// maxUpstreamBody bounds a non-streamed upstream answer read into memory.
const maxUpstreamBody = 64 << 20

// errorDecoder reads an upstream's error answer in its own protocol (anthropic.DecodeError,
// gemini.DecodeError).
type errorDecoder func(status int, retryAfter string, body []byte) *providers.Error

// upstreamErrorBody reads at most this much of an upstream's error answer.
const upstreamErrorBody = 1 << 20

// forwardedError settles a forwarded call that failed before an answer came, or whose answer
// is an error status (read with decode), and returns the error for the front door to write.
// It returns nil when resp is a success to relay.
func forwardedError(call *gateway.Call, resp *http.Response, err error, cancel context.CancelFunc,
	reqBody []byte, decode errorDecoder) error {
	if err != nil {
		cancel()
		return endWithError(call, err, reqBody)
	}
	if resp.StatusCode < 400 {
		return nil
	}
	b := providers.ReadAllLimited(resp.Body, upstreamErrorBody)
	resp.Body.Close()
	cancel()
	return endWithError(call, decode(resp.StatusCode, resp.Header.Get("Retry-After"), b), reqBody)
}

// readForwardedAnswer reads a non-streamed forwarded answer whole and checks that it is JSON
// ("upstream sent a malformed <what>" otherwise); on failure the call is settled with the error.
func readForwardedAnswer(call *gateway.Call, resp *http.Response, cancel context.CancelFunc, reqBody []byte,
	provider, what string) ([]byte, error) {
	b, err := providers.ReadBody(resp.Body, resp.ContentLength, maxUpstreamBody)
	resp.Body.Close()
	cancel()
	if err != nil {
		return nil, endWithError(call, err, reqBody)
	}
	if e := malformedJSON(provider, what, b); e != nil {
		return nil, endWithError(call, e, reqBody)
	}
	return b, nil
}

// sendForwardedCount relays a token count the backend answered itself: its JSON as it is, or its
// error status read with decode.
func sendForwardedCount(c *fiber.Ctx, resp *http.Response, decode errorDecoder) error {
	defer resp.Body.Close()
	b := providers.ReadAllLimited(resp.Body, upstreamErrorBody)
	if resp.StatusCode >= 400 {
		return decode(resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Status(resp.StatusCode).Send(b)
}
