package routes

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/anthropic"
)

// messages is POST /v1/messages: the Anthropic Messages API to whatever backend the client's
// key names, so Claude Code and the Anthropic SDKs work on any backend.
func (s *server) messages(c *fiber.Ctx) error {
	received := time.Now()
	cl, err := s.authenticate(c)
	if err != nil {
		return err
	}
	body := c.Body()
	info, err := anthropic.PeekRequest(body)
	if err != nil {
		return err
	}
	call, err := s.admit(c, cl, admission{door: doorAnthropic, endpoint: "/v1/messages", model: info.Model,
		stream: info.Stream, input: info.InputTokens, maxOut: info.MaxTokens}, received)
	if err != nil {
		return err
	}
	if ac, ok := call.Provider().(*anthropic.Client); ok {
		return s.forwardMessages(c, call, ac, body, info)
	}
	req, err := anthropic.DecodeRequest(body)
	if err != nil {
		return endWithError(call, err, body)
	}
	applyPolicy(req, call)
	return s.translate(c, call, req, anthropicWire{}, body)
}

// forwardMessages is the same-protocol path for an Anthropic backend: only model, system prompt
// and max_tokens change; the answer is relayed as the upstream sent it.
func (s *server) forwardMessages(c *fiber.Ctx, call *gateway.Call, ac *anthropic.Client, body []byte, info anthropic.RequestInfo) error {
	out, err := anthropic.RewriteRequest(body, anthropic.Rewrite{
		Model: call.Model(), System: call.SystemPrompt(), MaxTokens: call.MaxOutputTokens()})
	if err != nil {
		return endWithError(call, err, body)
	}
	ctx, cancel := s.upstreamContext()
	defer cancelIfClientLeaves(c, cancel)()
	call.Upstream()
	resp, err := ac.ForwardWith(ctx, "messages", out, info.Stream, anthropic.ForwardOptions{
		Beta: c.Get("anthropic-beta"), Version: c.Get("anthropic-version")})
	if err := forwardedError(call, resp, err, cancel, body, anthropic.DecodeError); err != nil {
		return err
	}
	if !info.Stream {
		b, err := readForwardedAnswer(call, resp, cancel, body, "anthropic", "message")
		if err != nil {
			return err
		}
		call.FirstByte()
		usage, finish, ok := anthropic.UsageFromBody(b)
		if !ok {
			usage = estimatedUsage(call, len(b))
		}
		call.End(gateway.Outcome{Status: resp.StatusCode, Usage: usage, FinishReason: finish,
			RequestBody: body, ResponseBody: b})
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Status(resp.StatusCode).Send(b)
	}

	var sniff anthropic.UsageSniffer
	sse := providers.NewSSEReader(resp.Body)
	stopped := false
	deltas := 0
	next := func(dst []byte) ([]byte, error) {
		ev, err := sse.Next()
		if errors.Is(err, io.EOF) {
			if !stopped && sniff.Err() == nil {
				e := &providers.Error{Kind: providers.KindUpstream, HTTPStatus: http.StatusBadGateway,
					Message: "upstream closed the stream before message_stop", Provider: "anthropic"}
				return anthropic.EncodeStreamError(dst, e), e
			}
			return dst, io.EOF
		}
		if err != nil {
			return anthropic.EncodeStreamError(dst, providers.AsError(err)), err
		}
		if e := malformedJSON("anthropic", "stream event", ev.Data); e != nil {
			return anthropic.EncodeStreamError(dst, e), e
		}
		sniff.Observe(ev.Name, ev.Data)
		switch ev.Name {
		case "message_stop":
			stopped = true
		case "content_block_delta":
			call.FirstByte()
			deltas++
		}
		if ev.Name != "" {
			dst = append(dst, "event: "...)
			dst = append(dst, ev.Name...)
			dst = append(dst, '\n')
		}
		dst = append(dst, "data: "...)
		dst = append(dst, ev.Data...)
		dst = append(dst, '\n', '\n')
		if e := sniff.Err(); e != nil {
			return dst, e
		}
		return dst, nil
	}
	logBody := streamLogBody(body)
	streamHeaders(c, "text/event-stream")
	relay{
		next:      next,
		close:     func() { providers.CloseStream(resp.Body, stopped) },
		cancel:    cancel,
		keepalive: anthropicWire{}.keepalive(),
		done: func(clientGone bool, err error) {
			usage := sniff.Usage()
			if !sniff.Seen() {
				usage = estimatedUsage(call, 4*deltas)
			}
			o := streamOutcome(clientGone, err, usage, sniff.FinishReason(), "")
			o.RequestBody = logBody
			call.End(o)
		},
	}.start(c)
	return nil
}

// countTokens is POST /v1/messages/count_tokens: the Anthropic backend's own counter, the
// backend's counter through translation where it has one (Gemini), else an estimate of one
// token per four bytes of prompt text (the same estimate the quotas use).
func (s *server) countTokens(c *fiber.Ctx) error {
	cl, err := s.authenticate(c)
	if err != nil {
		return err
	}
	body := c.Body()
	info, err := anthropic.PeekRequest(body)
	if err != nil {
		return err
	}
	model := info.Model
	if model == "" {
		model = cl.DefaultModel
	}
	if !cl.Allows(model) {
		return &providers.Error{Kind: providers.KindPermission, Code: "model_not_allowed",
			Message: "model " + model + " is not allowed for this key"}
	}
	prov, err := cl.Provider()
	if err != nil {
		return err
	}
	ctx, cancel := s.upstreamContext()
	defer cancel()
	if ac, ok := prov.(*anthropic.Client); ok {
		out, err := anthropic.RewriteRequest(body, anthropic.Rewrite{Model: model, System: cl.SystemPrompt})
		if err != nil {
			return err
		}
		resp, err := ac.ForwardWith(ctx, "messages/count_tokens", out, false, anthropic.ForwardOptions{
			Beta: c.Get("anthropic-beta"), Version: c.Get("anthropic-version")})
		if err != nil {
			return err
		}
		return sendForwardedCount(c, resp, anthropic.DecodeError)
	}
	n := info.InputTokens
	if tc, ok := prov.(providers.TokenCounter); ok {
		req, err := anthropic.DecodeRequest(withMaxTokens(body))
		if err != nil {
			return err
		}
		req.Model = model
		if sp := cl.SystemPrompt; sp != "" {
			req.Messages = append([]providers.Message{{Role: providers.RoleSystem, Content: []providers.Part{providers.TextPart(sp)}}}, req.Messages...)
		}
		if n, err = tc.CountTokens(ctx, req); err != nil {
			return err
		}
	} else if sp := cl.SystemPrompt; sp != "" {
		n += estimateTokens(len(sp))
	}
	return c.JSON(fiber.Map{"input_tokens": n})
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

// malformedJSON is the error for an upstream answer (or stream event) that is not valid JSON,
// with the parser's message; nil when data is valid or empty. Same-protocol forwarding checks
// this so a client never receives a broken answer as if it were whole.
func malformedJSON(provider, what string, data []byte) *providers.Error {
	if len(data) == 0 || json.Valid(data) {
		return nil
	}
	var v json.RawMessage
	msg := "invalid JSON"
	if err := json.Unmarshal(data, &v); err != nil {
		msg = err.Error()
	}
	return &providers.Error{Kind: providers.KindUpstream, HTTPStatus: http.StatusBadGateway, Provider: provider,
		Message: "upstream sent a malformed " + what + ": " + msg}
}
