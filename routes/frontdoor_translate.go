package routes

import (
	"errors"
	"io"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/anthropic"
	"github.com/aigateway/ai-gateway/providers/gemini"
	"github.com/aigateway/ai-gateway/providers/openai"
)

// wire is one front door's protocol on the way out: how a canonical answer, stream and
// mid-stream error are written for the caller.
type wire interface {
	response(resp *providers.Response) []byte
	stream(id, model string) streamWire
	contentType() string
	// keepalive is written while the upstream is silent (an SSE comment, a ping, whitespace); nil = none.
	keepalive() []byte
}

// streamWire encodes one stream; Finish closes it normally, Error closes it with an error.
type streamWire interface {
	Encode(dst []byte, ev providers.StreamEvent) []byte
	Finish(dst []byte) []byte
	Error(dst []byte, e *providers.Error) []byte
}

// openAIWire writes Chat Completions.
type openAIWire struct{ includeUsage bool }

func (openAIWire) response(r *providers.Response) []byte { return openai.EncodeResponse(r) }
func (w openAIWire) stream(id, model string) streamWire {
	return openAIStream{openai.NewStreamEncoder(id, model, time.Now().Unix(), w.includeUsage)}
}
func (openAIWire) contentType() string { return "text/event-stream" }
func (openAIWire) keepalive() []byte   { return []byte(": keepalive\n\n") }

type openAIStream struct{ *openai.StreamEncoder }

func (s openAIStream) Finish(dst []byte) []byte { return s.Done(dst) }
func (s openAIStream) Error(dst []byte, e *providers.Error) []byte {
	return openai.EncodeStreamError(dst, e)
}

// anthropicWire writes Messages.
type anthropicWire struct{}

func (anthropicWire) response(r *providers.Response) []byte { return anthropic.EncodeResponse(r) }
func (anthropicWire) stream(id, model string) streamWire {
	return anthropicStream{anthropic.NewStreamEncoder(id, model)}
}
func (anthropicWire) contentType() string { return "text/event-stream" }
func (anthropicWire) keepalive() []byte {
	return []byte("event: ping\ndata: {\"type\":\"ping\"}\n\n")
}

type anthropicStream struct{ *anthropic.StreamEncoder }

func (s anthropicStream) Error(dst []byte, e *providers.Error) []byte {
	return anthropic.EncodeStreamError(dst, e)
}

// geminiWire writes GenerateContentResponse, as SSE (alt=sse) or as a streamed JSON array.
type geminiWire struct{ sse bool }

func (geminiWire) response(r *providers.Response) []byte { return gemini.EncodeResponse(r) }
func (w geminiWire) stream(_, model string) streamWire {
	return geminiStream{gemini.NewStreamEncoder(model, w.sse)}
}
func (w geminiWire) contentType() string {
	if w.sse {
		return "text/event-stream"
	}
	return "application/json"
}
func (w geminiWire) keepalive() []byte {
	if w.sse {
		return []byte(": keepalive\r\n\r\n")
	}
	// The relay writes whole elements, so this always falls between JSON tokens (before "[",
	// around ","), where whitespace is valid; the array's own separator is ",\r\n".
	return []byte("\r\n")
}

type geminiStream struct{ *gemini.StreamEncoder }

func (s geminiStream) Error(dst []byte, e *providers.Error) []byte { return s.EncodeError(dst, e) }

// translate serves a canonical request through the client's provider and writes the answer
// with w: the path of every cross-protocol call (SPEC §5 "Translation rules").
func (s *server) translate(c *fiber.Ctx, call *gateway.Call, req *providers.Request, w wire, reqBody []byte) error {
	prov := call.Provider()
	ctx, cancel := s.callContext(call)
	defer cancelIfClientLeaves(c, cancel)()
	call.Upstream()
	if !req.Stream {
		resp, err := prov.Chat(ctx, req)
		cancel()
		if err != nil {
			return endWithError(call, err, reqBody)
		}
		body := w.response(resp)
		call.FirstByte()
		o := gateway.Outcome{Status: fiber.StatusOK, Usage: resp.Usage, ModelUsed: resp.Model,
			RequestBody: reqBody, ResponseBody: body}
		if len(resp.Choices) > 0 {
			o.FinishReason = resp.Choices[0].FinishReason
		}
		if o.Usage == (providers.Usage{}) {
			o.Usage = estimatedUsage(call, responseTextLen(resp))
		}
		call.End(o)
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Status(fiber.StatusOK).Send(body)
	}

	st, err := prov.Stream(ctx, req)
	if err != nil {
		cancel()
		return endWithError(call, err, reqBody)
	}
	var (
		usage    providers.Usage
		hasUsage bool
		finish   string
		model    string
		outBytes int
		enc      streamWire
	)
	next := func(dst []byte) ([]byte, error) {
		for {
			ev, err := st.Next()
			if enc == nil {
				// The first event names the answer; an upstream that fails before it still gets
				// a well-formed stream with the error in it.
				id, m := "", call.Model()
				if err == nil && ev.Kind == providers.EventStart {
					id = ev.ID
					if ev.Model != "" {
						m = ev.Model
					}
				}
				model = m
				enc = w.stream(id, m)
			}
			if errors.Is(err, io.EOF) {
				return enc.Finish(dst), io.EOF
			}
			if err != nil {
				return enc.Error(dst, providers.AsError(err)), err
			}
			switch ev.Kind {
			case providers.EventUsage:
				if ev.Usage != nil {
					usage, hasUsage = *ev.Usage, true
				}
			case providers.EventFinish:
				if ev.Choice == 0 {
					finish = ev.FinishReason
				}
			case providers.EventText, providers.EventReasoning, providers.EventToolCall, providers.EventToolArgs:
				call.FirstByte()
				outBytes += len(ev.Text) + len(ev.Args) + len(ev.ToolName)
			}
			dst = enc.Encode(dst, ev)
			if len(dst) > 0 {
				return dst, nil
			}
		}
	}
	logBody := streamLogBody(reqBody)
	streamHeaders(c, w.contentType())
	relay{
		next:      next,
		close:     func() { st.Close() },
		cancel:    cancel,
		keepalive: w.keepalive(),
		done: func(clientGone bool, err error) {
			if !hasUsage {
				usage = estimatedUsage(call, outBytes)
			}
			o := streamOutcome(clientGone, err, usage, finish, model)
			o.RequestBody = logBody
			call.End(o)
		},
	}.start(c)
	return nil
}

// estimatedUsage is the usage of an answer the upstream did not count: the admission's input
// estimate and one output token per four bytes. The log row is marked as estimated.
func estimatedUsage(call *gateway.Call, outBytes int) providers.Usage {
	return providers.Usage{InputTokens: int(call.Admission().InputTokens), OutputTokens: estimateTokens(outBytes), Estimated: true}
}

func responseTextLen(r *providers.Response) int {
	n := 0
	for _, ch := range r.Choices {
		for _, p := range ch.Message.Content {
			n += len(p.Text)
		}
		n += len(ch.Message.Reasoning)
		for _, tc := range ch.Message.ToolCalls {
			n += len(tc.Name) + len(tc.Arguments)
		}
	}
	return n
}
