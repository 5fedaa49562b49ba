package routes

import (
	"errors"
	"io"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/openai"
)

// chatCompletions is POST /v1/chat/completions (and /chat/completions): OpenAI Chat Completions
// to whatever backend the client's key names.
func (s *server) chatCompletions(c *fiber.Ctx) error {
	received := time.Now()
	cl, err := s.authenticate(c)
	if err != nil {
		return err
	}
	body := c.Body()
	info, err := openai.PeekRequest(body)
	if err != nil {
		return err
	}
	call, err := s.admit(c, cl, admission{door: doorOpenAI, endpoint: "/v1/chat/completions", model: info.Model,
		stream: info.Stream, input: info.InputTokens, maxOut: info.MaxTokens}, received)
	if err != nil {
		return err
	}
	if oc, ok := call.Provider().(*openai.Client); ok {
		return s.forwardChat(c, call, oc, body, info)
	}
	req, err := openai.DecodeRequest(body)
	if err != nil {
		return endWithError(call, err, body)
	}
	applyPolicy(req, call)
	return s.translate(c, call, req, openAIWire{includeUsage: info.IncludeUsage}, body)
}

// forwardChat is the same-protocol path: the body goes upstream close to byte-for-byte, with
// only what policy owns changed, and the answer comes back verbatim (backend quirks mapped back).
func (s *server) forwardChat(c *fiber.Ctx, call *gateway.Call, oc *openai.Client, body []byte, info openai.RequestInfo) error {
	out, err := openai.RewriteRequest(body, openai.Rewrite{
		Model: call.Model(), SystemPrompt: call.SystemPrompt(), MaxTokens: call.MaxOutputTokens()})
	if err != nil {
		return endWithError(call, err, body)
	}
	ctx, cancel := s.callContext(call)
	defer cancelIfClientLeaves(c, cancel)()
	call.Upstream()
	fw, err := oc.ForwardChat(ctx, out, info.Stream)
	if err != nil {
		cancel()
		return endWithError(call, err, body)
	}
	if !fw.Stream {
		fw.Close()
		cancel()
		call.FirstByte()
		usage := fw.Usage
		if !fw.HasUsage {
			n := 0
			if resp, err := openai.DecodeResponse(fw.Body); err == nil {
				n = responseTextLen(resp)
			}
			usage = estimatedUsage(call, n)
		}
		call.End(gateway.Outcome{Status: fiber.StatusOK, Usage: usage, FinishReason: fw.FinishReason,
			ModelUsed: fw.Model, RequestBody: body, ResponseBody: fw.Body})
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Status(fiber.StatusOK).Send(fw.Body)
	}

	fw.DropUsageChunk = !info.IncludeUsage
	var chunks int
	next := func(dst []byte) ([]byte, error) {
		data, err := fw.Next()
		if errors.Is(err, io.EOF) {
			return append(dst, "data: [DONE]\n\n"...), io.EOF
		}
		if err != nil {
			return openai.EncodeStreamError(dst, providers.AsError(err)), err
		}
		call.FirstByte()
		chunks++
		dst = append(dst, "data: "...)
		dst = append(dst, data...)
		return append(dst, '\n', '\n'), nil
	}
	logBody := streamLogBody(body)
	streamHeaders(c, "text/event-stream")
	relay{
		next:      next,
		close:     func() { fw.Close() },
		cancel:    cancel,
		keepalive: []byte(": keepalive\n\n"),
		done: func(clientGone bool, err error) {
			usage := fw.Usage
			if !fw.HasUsage {
				// An upstream that ignores include_usage: a streamed chunk carries about one
				// token, so count chunks (4 bytes each in estimatedUsage's terms).
				usage = estimatedUsage(call, 4*chunks)
			}
			o := streamOutcome(clientGone, err, usage, fw.FinishReason, fw.Model)
			o.RequestBody = logBody
			call.End(o)
		},
	}.start(c)
	return nil
}
