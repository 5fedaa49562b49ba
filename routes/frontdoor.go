package routes

import (
	"bytes"
	"context"
	"errors"
	"io"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/providers"
)

// Front doors: the protocols clients speak.
const (
	doorOpenAI    = "openai"
	doorAnthropic = "anthropic"
	doorGemini    = "gemini"
)

// admission is what a front door read from a request before policy runs.
type admission struct {
	door     string
	endpoint string
	model    string
	stream   bool
	input    int
	maxOut   int
}

// authenticate finds the calling client from its key (SPEC §4, §6.1).
// The key's last four characters go to the access log (never more of it).
func (s *server) authenticate(c *fiber.Ctx) (*gateway.Client, error) {
	key := clientKey(c)
	if len(key) >= 16 {
		c.Locals(localKeyHint, key[len(key)-4:])
	}
	cl, err := s.Gateway.Authenticate(key)
	if err == nil {
		c.Locals(localClient, cl)
	}
	return cl, err
}

// admit runs the per-client policy (SPEC §6.2–6.5) and sets the x-ratelimit-* headers, on the
// refusal too.
func (s *server) admit(c *fiber.Ctx, cl *gateway.Client, a admission, received time.Time) (*gateway.Call, error) {
	call, err := s.Gateway.Begin(cl, gateway.Admission{
		Endpoint: a.endpoint, FrontDoor: a.door, Model: a.model, Stream: a.stream,
		InputTokens: int64(a.input), MaxOutputTokens: int64(a.maxOut),
		RequestID: requestIDOf(c), ClientIP: s.clientIP(c), Received: received,
	})
	if err != nil {
		setHeaders(c, s.Gateway.RateLimitHeaders(cl))
		return nil, err
	}
	setHeaders(c, call.RateLimitHeaders())
	return call, nil
}

func setHeaders(c *fiber.Ctx, hs []gateway.Header) {
	for _, h := range hs {
		c.Set(h.Name, h.Value)
	}
}

// applyPolicy makes a canonical request say what policy decided: the model, the client's
// system prompt first (the caller's own system messages stay after it) and the output cap.
func applyPolicy(req *providers.Request, call *gateway.Call) {
	req.Model = call.Model()
	if sp := call.SystemPrompt(); sp != "" {
		msgs := make([]providers.Message, 0, len(req.Messages)+1)
		msgs = append(msgs, providers.Message{Role: providers.RoleSystem, Content: []providers.Part{providers.TextPart(sp)}})
		req.Messages = append(msgs, req.Messages...)
	}
	if m := call.MaxOutputTokens(); m > 0 {
		req.MaxTokens = m
	}
}

// upstreamContext is the context of one upstream call. It is not the fiber context (fasthttp
// reuses those), and it outlives the handler while a stream is relayed; cancel ends it, and so
// does cancelling Deps.UpstreamContext (its cause becomes the error the caller sees).
func (s *server) upstreamContext() (context.Context, context.CancelFunc) {
	return context.WithCancel(s.UpstreamContext)
}

// callContext is upstreamContext for an admitted call. The gateway ends it too, when an
// administrator deletes, disables or re-keys the client meanwhile; the cause says so, and the
// front door passes it on in-band (or as the error answer, before headers).
func (s *server) callContext(call *gateway.Call) (context.Context, context.CancelFunc) {
	return call.Context(s.UpstreamContext)
}

// endWithError settles a call that failed before anything was sent and returns the error for
// the error handler to write in the front door's shape.
func endWithError(call *gateway.Call, err error, reqBody []byte) error {
	e := providers.AsError(err)
	call.End(gateway.Outcome{Status: e.Status(), Err: e, RequestBody: reqBody})
	return e
}

// streamOutcome is the settlement of a relayed stream once it is over.
func streamOutcome(clientGone bool, err error, usage providers.Usage, finish, model string) gateway.Outcome {
	o := gateway.Outcome{Status: fiber.StatusOK, Usage: usage, FinishReason: finish, ModelUsed: model}
	switch {
	case clientGone:
		o.Status, o.Err = 499, &providers.Error{Kind: providers.KindCanceled, Message: "client closed the stream"}
	case err != nil && !errors.Is(err, io.EOF):
		e := providers.AsError(err)
		o.Status, o.Err = e.Status(), e
	}
	return o
}

// maxLoggedRequest bounds the copy of a streamed request's body kept for its log row (the request
// log itself keeps 64 KiB of it).
const maxLoggedRequest = 128 << 10

// streamLogBody copies what the request log may keep of a streamed request's body. The relay
// settles the call after the handler has returned, and fasthttp reuses the request's memory as
// soon as it has seen the client go — possibly before the relay settles.
func streamLogBody(body []byte) []byte { return bytes.Clone(body[:min(len(body), maxLoggedRequest)]) }

// estimateTokens is the documented fallback when an upstream reports no usage: one token per
// four bytes of text.
func estimateTokens(n int) int { return (n + 3) / 4 }
