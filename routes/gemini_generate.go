package routes

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/gemini"
)

// geminiModelAction splits the path tail "gemini-2.5-flash:generateContent".
func geminiModelAction(c *fiber.Ctx) (model, action string, err error) {
	tail := c.Params("*")
	i := strings.LastIndexByte(tail, ':')
	if i <= 0 || i == len(tail)-1 {
		return "", "", &providers.Error{Kind: providers.KindNotFound,
			Message: "expected /v1beta/models/{model}:{generateContent|streamGenerateContent|countTokens}"}
	}
	return strings.TrimPrefix(tail[:i], "models/"), tail[i+1:], nil
}

// geminiAction is POST /v1beta/models/{model}:{action}: the native Gemini front door.
func (s *server) geminiAction(c *fiber.Ctx) error {
	model, action, err := geminiModelAction(c)
	if err != nil {
		return err
	}
	switch action {
	case "generateContent":
		return s.geminiGenerate(c, model, false)
	case "streamGenerateContent":
		return s.geminiGenerate(c, model, true)
	case "countTokens":
		return s.geminiCountTokens(c, model)
	}
	return &providers.Error{Kind: providers.KindNotFound, Message: "unsupported Gemini method " + action}
}

func (s *server) geminiGenerate(c *fiber.Ctx, model string, stream bool) error {
	received := time.Now()
	cl, err := s.authenticate(c)
	if err != nil {
		return err
	}
	body := c.Body()
	info, err := gemini.PeekRequest(body)
	if err != nil {
		return err
	}
	endpoint := "/v1beta/models:generateContent"
	if stream {
		endpoint = "/v1beta/models:streamGenerateContent"
	}
	call, err := s.admit(c, cl, admission{door: doorGemini, endpoint: endpoint, model: model, stream: stream,
		input: info.InputTokens, maxOut: info.MaxTokens}, received)
	if err != nil {
		return err
	}
	sse := c.Query("alt") == "sse"
	if gc, ok := call.Provider().(*gemini.Client); ok {
		return s.forwardGemini(c, call, gc, body, stream, sse)
	}
	req, err := gemini.DecodeRequest(call.Model(), body)
	if err != nil {
		return endWithError(call, err, body)
	}
	req.Stream = stream
	applyPolicy(req, call)
	return s.translate(c, call, req, geminiWire{sse: sse}, body)
}

// forwardGemini is the same-protocol path for a Gemini backend: only the system instruction and
// maxOutputTokens change. The upstream is always asked for SSE; a caller that wants the
// JSON-array stream gets the same chunks as array elements.
func (s *server) forwardGemini(c *fiber.Ctx, call *gateway.Call, gc *gemini.Client, body []byte, stream, sse bool) error {
	out, err := gemini.RewriteRequest(body, gemini.Rewrite{SystemPrompt: call.SystemPrompt(), MaxTokens: call.MaxOutputTokens()})
	if err != nil {
		return endWithError(call, err, body)
	}
	op := "models/" + call.Model() + ":generateContent"
	if stream {
		op = "models/" + call.Model() + ":streamGenerateContent?alt=sse"
	}
	ctx, cancel := s.upstreamContext()
	defer cancelIfClientLeaves(c, cancel)()
	call.Upstream()
	resp, err := gc.Forward(ctx, op, out, stream)
	if err := forwardedError(call, resp, err, cancel, body, gemini.DecodeError); err != nil {
		return err
	}
	if !stream {
		b, err := readForwardedAnswer(call, resp, cancel, body, "gemini", "response")
		if err != nil {
			return err
		}
		call.FirstByte()
		usage, ok := gemini.UsageFromChunk(b)
		if !ok {
			usage = estimatedUsage(call, len(b))
		}
		var finish gemini.FinishSniffer
		finish.Observe(b)
		call.End(gateway.Outcome{Status: resp.StatusCode, Usage: usage, FinishReason: finish.FinishReason(),
			RequestBody: body, ResponseBody: b})
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Status(resp.StatusCode).Send(b)
	}

	var (
		usage    providers.Usage
		hasUsage bool
		chunks   int
		finish   gemini.FinishSniffer
		ended    bool
	)
	reader := providers.NewSSEReader(resp.Body)
	next := func(dst []byte) ([]byte, error) {
		ev, err := reader.Next()
		if errors.Is(err, io.EOF) {
			if chunks == 0 {
				e := &providers.Error{Kind: providers.KindUpstream, HTTPStatus: http.StatusBadGateway,
					Message: "upstream closed the stream without sending an answer", Provider: "gemini"}
				return geminiStreamError(dst, e, sse, chunks), e
			}
			if finish.FinishReason() == "" {
				e := &providers.Error{Kind: providers.KindUpstream, HTTPStatus: http.StatusBadGateway,
					Message: "Gemini ended the stream before the answer was complete (no finishReason)", Provider: "gemini"}
				return geminiStreamError(dst, e, sse, chunks), e
			}
			if !sse {
				dst = append(dst, ']')
			}
			ended = true
			return dst, io.EOF
		}
		if err != nil {
			return geminiStreamError(dst, providers.AsError(err), sse, chunks), err
		}
		if e := malformedJSON("gemini", "stream chunk", ev.Data); e != nil {
			return geminiStreamError(dst, e, sse, chunks), e
		}
		if u, ok := gemini.UsageFromChunk(ev.Data); ok {
			usage, hasUsage = u, true
		}
		finish.Observe(ev.Data)
		call.FirstByte()
		if sse {
			dst = append(dst, "data: "...)
			dst = append(dst, ev.Data...)
			dst = append(dst, "\r\n\r\n"...)
		} else {
			if chunks == 0 {
				dst = append(dst, '[')
			} else {
				dst = append(dst, ",\r\n"...)
			}
			dst = append(dst, ev.Data...)
		}
		chunks++
		return dst, nil
	}
	logBody := streamLogBody(body)
	streamHeaders(c, geminiWire{sse: sse}.contentType())
	relay{
		next:      next,
		close:     func() { providers.CloseStream(resp.Body, ended) },
		cancel:    cancel,
		keepalive: geminiWire{sse: sse}.keepalive(),
		done: func(clientGone bool, err error) {
			if !hasUsage {
				usage = estimatedUsage(call, 4*chunks)
			}
			o := streamOutcome(clientGone, err, usage, finish.FinishReason(), "")
			o.RequestBody = logBody
			call.End(o)
		},
	}.start(c)
	return nil
}

// geminiStreamError ends a relayed Gemini stream with an error element.
func geminiStreamError(dst []byte, e *providers.Error, sse bool, chunks int) []byte {
	if sse {
		dst = append(dst, "data: "...)
		dst = append(dst, gemini.EncodeError(e)...)
		return append(dst, "\r\n\r\n"...)
	}
	if chunks == 0 {
		dst = append(dst, '[')
	} else {
		dst = append(dst, ",\r\n"...)
	}
	dst = append(dst, gemini.EncodeError(e)...)
	return append(dst, ']')
}

// geminiCountTokens is POST /v1beta/models/{model}:countTokens: the Gemini backend's counter,
// another backend's counter through translation where it has one, else the estimate of one
// token per four bytes of prompt. The client's system prompt is counted too, as it will be sent.
func (s *server) geminiCountTokens(c *fiber.Ctx, model string) error {
	cl, err := s.authenticate(c)
	if err != nil {
		return err
	}
	if !cl.Allows(model) {
		return &providers.Error{Kind: providers.KindPermission, Code: "model_not_allowed",
			Message: "model " + model + " is not allowed for this key"}
	}
	prov, err := cl.Provider()
	if err != nil {
		return err
	}
	body := c.Body()
	ctx, cancel := s.upstreamContext()
	defer cancel()
	if gc, ok := prov.(*gemini.Client); ok {
		fwd, err := gemini.RewriteCountTokens(body, model, cl.SystemPrompt)
		if err != nil {
			return err
		}
		resp, err := gc.Forward(ctx, "models/"+model+":countTokens", fwd, false)
		if err != nil {
			return err
		}
		return sendForwardedCount(c, resp, gemini.DecodeError)
	}
	req, err := gemini.DecodeCountTokensRequest(model, body)
	if err != nil {
		return err
	}
	if sp := cl.SystemPrompt; sp != "" {
		req.Messages = append([]providers.Message{{Role: providers.RoleSystem, Content: []providers.Part{providers.TextPart(sp)}}}, req.Messages...)
	}
	var n int
	if tc, ok := prov.(providers.TokenCounter); ok {
		if n, err = tc.CountTokens(ctx, req); err != nil {
			return err
		}
	} else {
		n = estimateTokens(canonicalTextLen(req))
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(gemini.EncodeCountTokensResponse(n))
}

// canonicalTextLen is the number of bytes of text in a request's messages and tools.
func canonicalTextLen(req *providers.Request) int {
	n := 0
	for _, m := range req.Messages {
		for _, p := range m.Content {
			n += len(p.Text)
		}
		for _, tc := range m.ToolCalls {
			n += len(tc.Name) + len(tc.Arguments)
		}
	}
	for _, t := range req.Tools {
		n += len(t.Name) + len(t.Description) + len(t.Parameters)
	}
	return n
}

// geminiModels is GET /v1beta/models: the models this key may use, in Gemini's shape.
func (s *server) geminiModels(c *fiber.Ctx) error {
	cl, err := s.authenticate(c)
	if err != nil {
		return err
	}
	ids, err := s.Gateway.Models(c.UserContext(), cl)
	if err != nil {
		return err
	}
	models := make([]providers.Model, len(ids))
	for i, id := range ids {
		models[i] = providers.Model{ID: id}
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(gemini.EncodeModels(models))
}

// geminiModel is GET /v1beta/models/{model}.
func (s *server) geminiModel(c *fiber.Ctx) error {
	cl, err := s.authenticate(c)
	if err != nil {
		return err
	}
	id := strings.TrimPrefix(c.Params("*"), "models/")
	ok, err := s.clientHasModel(c, cl, id)
	if err != nil {
		return err
	}
	if !ok {
		return &providers.Error{Kind: providers.KindNotFound, Message: "model " + id + " is not available for this key"}
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(gemini.EncodeModel(providers.Model{ID: id}))
}

// clientHasModel reports whether id is among the models the client may use.
func (s *server) clientHasModel(c *fiber.Ctx, cl *gateway.Client, id string) (bool, error) {
	if !cl.Allows(id) {
		return false, nil
	}
	ids, err := s.Gateway.Models(c.UserContext(), cl)
	if err != nil {
		return false, err
	}
	for _, m := range ids {
		if m == id {
			return true, nil
		}
	}
	return false, nil
}
