package routes

import (
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/anthropic"
)

// messages is POST /v1/messages: the Anthropic Messages API to whatever backend the client's
// key names, so Claude Code and the Anthropic SDKs work on any backend.
func (s *server) messages(c *fiber.Ctx) error {
	cl, received := clientOf(c)
	body := c.Body()
	info, err := anthropic.PeekRequest(body)
	if err != nil {
		return err
	}
	adm := s.admission(c, doorAnthropic, "/v1/messages", received)
	adm.Model, adm.Stream, adm.InputTokens, adm.MaxOutputTokens = info.Model, info.Stream, int64(info.InputTokens), int64(info.MaxTokens)
	return s.serve(c, &gateway.Exchange{
		Client:    cl,
		Admission: adm,
		Door:      anthropic.Door{},
		Body:      body,
		Forward:   providers.ForwardRequest{Stream: info.Stream, Header: anthropicHeaders(c)},
		Decode:    func() (*providers.Request, error) { return anthropic.DecodeRequest(body) },
	})
}

// countTokens is POST /v1/messages/count_tokens: the Anthropic backend's own counter, another
// backend's counter through translation where it has one (Gemini), else the estimate of one token
// per four bytes of prompt. Like every call it is admitted (rate limits), logged and counted.
func (s *server) countTokens(c *fiber.Ctx) error {
	cl, received := clientOf(c)
	body := c.Body()
	info, err := anthropic.PeekRequest(body)
	if err != nil {
		return err
	}
	adm := s.admission(c, doorAnthropic, "/v1/messages/count_tokens", received)
	adm.Op, adm.Model = gateway.OpCountTokens, info.Model
	return s.serve(c, &gateway.Exchange{
		Client:    cl,
		Admission: adm,
		Door:      anthropic.Door{},
		Body:      body,
		Forward:   providers.ForwardRequest{Header: anthropicHeaders(c)},
		Decode:    func() (*providers.Request, error) { return anthropic.DecodeRequest(withMaxTokens(body)) },
	})
}

// anthropicHeaders are the caller's headers a forwarded Messages request carries upstream.
func anthropicHeaders(c *fiber.Ctx) http.Header {
	h := http.Header{}
	if v := c.Get("anthropic-beta"); v != "" {
		h.Set("anthropic-beta", v)
	}
	if v := c.Get("anthropic-version"); v != "" {
		h.Set("anthropic-version", v)
	}
	return h
}

// withMaxTokens gives a count_tokens body (which has no max_tokens) the max_tokens that
// DecodeRequest requires of a Messages body.
func withMaxTokens(body []byte) []byte {
	out, err := anthropic.RewriteRequest(body, anthropic.Rewrite{MaxTokens: 1})
	if err != nil {
		return body
	}
	return out
}
