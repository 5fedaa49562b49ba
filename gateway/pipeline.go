package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sync"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway/mcpservers"
	"github.com/aigateway/ai-gateway/providers"
)

// Operations of the pipeline: what a front door asks of the upstream.
const (
	// OpGenerate is a generation (chat, messages, generateContent); the zero Op means it too.
	OpGenerate = providers.OpGenerate
	// OpCountTokens counts input tokens; it reserves no tokens.
	OpCountTokens = providers.OpCountTokens
	// OpCompact compacts a Responses conversation on a backend that keeps its state itself; it
	// is admitted and accounted as a generation.
	OpCompact = providers.OpCompact
	// OpEmbed computes embeddings; it reserves input tokens only.
	OpEmbed = "embed"
	// OpModels lists the models the client may use; it needs no model and reserves no tokens.
	OpModels = "models"
	// OpProbe asks the backend for its own model list with the client's saved settings: an
	// administrator's Test Connection. It is neither admitted nor accounted against the client.
	OpProbe = "probe"
)

// Exchange is one front-door request on its way through the pipeline: what the caller sent,
// read just enough to admit it, and how to write the answer back.
type Exchange struct {
	Client    *Client
	Admission Admission
	// Door writes every answer in the caller's protocol.
	Door providers.Door
	// Body is the caller's body: forwarded as it is (policy aside) when the backend speaks the
	// door's protocol, and kept for the request log when body logging is on.
	Body []byte
	// Forward says how to forward Body (Stream, IncludeUsage, Header); the pipeline fills in
	// Op, Body and Policy.
	Forward providers.ForwardRequest
	// Decode reads Body into the canonical request, for a backend of another protocol.
	Decode func() (*providers.Request, error)
	// Embed is the embeddings request (OpEmbed).
	Embed *providers.EmbedRequest
	// Tool and ToolArgs are the tool OpTool calls (server__tool) and its arguments object.
	Tool     string
	ToolArgs json.RawMessage
	// Target is which of the client's targets OpProbe asks: 0 its own backend, n its n-th
	// fallback (an administrator's per-target Test Connection).
	Target int
	// Cancel, when set, cancels the context given to Do, which the caller made for this
	// exchange alone: the call then ends through it (see Call.Context) instead of through a
	// context of its own, one context fewer per request. Nil: Do derives its own.
	Cancel context.CancelCauseFunc
}

// Answer is the pipeline's result. Limits (the x-ratelimit-* headers) is set even when Do
// returns an error. On success exactly one of Body, Stream or Models holds the answer.
type Answer struct {
	Limits RateLimits
	// Body is a whole answer in the door's protocol, already settled. The edge scrubs it of
	// the upstream key (routes' redactAnswer), as it does every whole answer.
	Body []byte
	// Stream is a streamed answer: the caller writes what Next returns and calls End once.
	Stream *Stream
	// Models is the answer of OpModels, for the door to encode.
	Models []string
	// Probed is the answer of OpProbe: the backend's models as it listed them.
	Probed []providers.Model
	// Embeddings is the translated answer of OpEmbed; nil when Body holds the upstream's own.
	Embeddings *providers.EmbedResponse
	// Tool is the result of OpTool.
	Tool *mcpservers.Result
	// Usage is what the answer was accounted with.
	Usage providers.Usage
	// outcome is how a whole answer is settled, once routing is over.
	outcome Outcome
	// buffer holds Body's memory when it came from the answer pool (see Release).
	buffer *providers.AnswerBuffer
	// pooled is set on an answer from newAnswer, which Release puts back. Release clears it, so
	// a second Release does not put the same answer in the pool twice (two callers would share it).
	pooled bool
}

// Release gives a whole answer back, with its body's memory when that came from the answer
// pool: the caller calls it once Body has been copied out (to the client's response buffer), and
// must not use a afterwards. Not calling it only leaves the memory to the garbage collector.
func (a *Answer) Release() {
	a.buffer.Release()
	pooled := a.pooled
	*a = Answer{}
	if pooled {
		answers.Put(a)
	}
}

// answers holds answers given back with Release, for Do's next call: the answer of a whole
// request is then no garbage.
var answers = sync.Pool{New: func() any { return new(Answer) }}

// newAnswer is an empty answer from the pool; Release gives it back.
func newAnswer() *Answer {
	a := answers.Get().(*Answer)
	a.pooled = true
	return a
}

// Do is the one upstream call point of every front door (SPEC §13): admission (the client's
// policy, limits and quotas, see Begin), the call (the same-protocol Forwarder when the backend
// speaks the door's protocol, else translation through the canonical model), and settlement
// (usage, metrics, the request log). Nothing is written to the caller before it returns, so
// everything up to the first upstream byte can still be retried elsewhere.
//
// Errors are a *Refusal (the gateway's own: key, policy, limits, validation) or the upstream's
// *providers.Error (already settled); errors.As finds either as a *providers.Error. A
// stream's failure after Do returned is written in-band by Stream.Next and settled by End.
func (g *Gateway) Do(ctx context.Context, x *Exchange) (*Answer, error) {
	if x.Admission.Op == "" {
		x.Admission.Op = OpGenerate
	}
	ctx, span := g.startRequest(ctx, x)
	if m := x.Admission.Model; m != "" {
		// A model id is checked before anything else: it names upstream paths.
		if err := providers.CheckModelID(m); err != nil {
			return &Answer{}, refused(span, refusalOf(err))
		}
	}
	if x.Admission.Op == OpProbe {
		ms, err := g.probeTarget(ctx, x.Client, x.Target)
		if err != nil {
			return &Answer{}, x.Client.RedactError(providers.AsError(err))
		}
		return &Answer{Probed: ms}, nil
	}
	if x.Admission.Op == OpEmbed {
		if err := embeddable(x); err != nil {
			return &Answer{}, refused(span, err)
		}
	}
	call, err := g.Begin(x.Client, x.Admission)
	if err != nil {
		return &Answer{Limits: g.rateLimits(x.Client)}, refused(span, err)
	}
	call.traced(span) // Call.End ends the span
	a := newAnswer()
	a.Limits = call.RateLimits()
	// The call's own context: the gateway ends it when an administrator deletes, disables or
	// re-keys the client meanwhile, with a cause the caller sees (see Call.Context).
	var cancel context.CancelFunc
	if x.Cancel != nil {
		ctx, cancel = call.own(ctx, x.Cancel)
	} else {
		ctx, cancel = call.Context(ctx)
	}
	call.Upstream()
	switch x.Admission.Op {
	case OpModels:
		err = g.listModels(ctx, call, a)
	case OpEmbed:
		err = g.embed(ctx, call, x, a)
	case OpCountTokens:
		err = g.countTokens(ctx, call, x, a)
	case OpCompact:
		err = g.compact(ctx, call, x, a)
	case OpTool:
		err = g.callTool(ctx, call, x, a)
	default:
		err = g.generate(ctx, call, x, a)
	}
	if err != nil {
		e := call.client.RedactError(providers.AsError(err))
		call.End(Outcome{Status: e.Status(), Err: e, RequestBody: x.Body})
		cancel()
		return a, e
	}
	if a.Stream != nil {
		a.Stream.cancel = cancel
	} else {
		cancel()
	}
	return a, nil
}

// policy is what the client's policy changes in a forwarded body; model is the target's.
func (c *Call) policy(model string) providers.Policy {
	return providers.Policy{Model: model, SystemPrompt: c.client.SystemPrompt, MaxTokens: c.maxOutput}
}

// forwarder is p as a same-protocol Forwarder for door, if it is one: its own protocol, or one
// its backend also serves natively (NativeForwarder).
func forwarder(p providers.Provider, door providers.Door) (providers.Forwarder, bool) {
	if door == nil {
		return nil, false
	}
	if nf, ok := p.(providers.NativeForwarder); ok && nf.ServesNatively(door.Protocol()) {
		return nativeForwarder{nf, door.Protocol()}, true
	}
	fw, ok := p.(providers.Forwarder)
	return fw, ok && fw.Protocol() == door.Protocol()
}

// nativeForwarder is a NativeForwarder as the Forwarder of one protocol.
type nativeForwarder struct {
	nf       providers.NativeForwarder
	protocol string
}

func (n nativeForwarder) Protocol() string { return n.protocol }
func (n nativeForwarder) Forward(ctx context.Context, req providers.ForwardRequest) (providers.Forwarded, error) {
	return n.nf.ForwardNative(ctx, n.protocol, req)
}

// Forwards reports whether c's backend answers door's protocol itself (forwarded, not
// translated): the state of such a conversation is the upstream's. A client in tool mode
// gateway is always translated (the tool loop works on the canonical model).
func Forwards(c *Client, door providers.Door) bool {
	if c.ToolMode == db.ToolModeGateway {
		return false
	}
	p, err := c.Provider()
	if err != nil {
		return false
	}
	_, ok := forwarder(p, door)
	return ok
}

// ForwardState reads (OpRead) or deletes (OpDelete) what c's backend keeps at path for the
// door's protocol (a stored response). It is neither admitted nor accounted: it generates
// nothing. The caller checks that the client owns path.
func (g *Gateway) ForwardState(ctx context.Context, c *Client, door providers.Door, op, path string) ([]byte, error) {
	p, err := c.Provider()
	if err != nil {
		return nil, err
	}
	fw, ok := forwarder(p, door)
	if !ok {
		return nil, &Refusal{Kind: providers.KindBadRequest, Message: "the " + c.Backend + " backend keeps no state of its own"}
	}
	f, err := fw.Forward(ctx, providers.ForwardRequest{Op: op, Path: path})
	if err != nil {
		return nil, c.RedactError(providers.AsError(err))
	}
	return c.Redact(f.Body), nil
}

// generate serves OpGenerate, routed over the client's targets (route.go); for a client in
// tool mode gateway, through the tool loop (toolloop.go).
func (g *Gateway) generate(ctx context.Context, call *Call, x *Exchange, a *Answer) error {
	if g.runsTools(call.client) {
		if err := g.generateWithTools(ctx, call, x, a); err != nil {
			return err
		}
	} else if err := g.route(ctx, call, func(ctx context.Context, up upstream) error {
		return g.generateOn(ctx, call, x, a, up)
	}); err != nil {
		return err
	}
	if a.Stream == nil {
		call.End(a.outcome)
	}
	return nil
}

// generateOn makes one attempt of OpGenerate on up. On success the answer is in a (a.outcome
// holds how to settle a whole one); nothing is settled, so a failure can be retried.
func (g *Gateway) generateOn(ctx context.Context, call *Call, x *Exchange, a *Answer, up upstream) error {
	if fw, ok := forwarder(up.provider, x.Door); ok {
		req := x.Forward
		req.Op, req.Body, req.Policy = OpGenerate, x.Body, call.policy(up.model)
		f, err := fw.Forward(ctx, req)
		if err != nil {
			return err
		}
		if f.Frames != nil {
			a.Stream = newStream(call, x, f.Frames, nil)
			return nil
		}
		call.FirstByte()
		sum := f.Summary
		if !sum.HasUsage {
			sum.Usage = call.estimatedUsage(len(f.Body))
		}
		a.Body, a.buffer, a.Usage = f.Body, f.Buffer, sum.Usage
		a.outcome = Outcome{Status: 200, Usage: sum.Usage, FinishReason: sum.FinishReason, ModelUsed: sum.Model,
			RequestBody: x.Body, ResponseBody: a.Body}
		return nil
	}
	// Decoded afresh for every attempt: policy changes the canonical request.
	req, err := x.Decode()
	if err != nil {
		return err
	}
	call.omitted = req.OmittedTools
	call.applyPolicy(req, up.model)
	if req.Stream {
		st, err := up.provider.Stream(ctx, req)
		if err != nil {
			return err
		}
		a.Stream = newStream(call, x, nil, st)
		return nil
	}
	resp, err := up.provider.Chat(ctx, req)
	if err != nil {
		return err
	}
	call.FirstByte()
	o := Outcome{Status: 200, Usage: resp.Usage, ModelUsed: resp.Model, RequestBody: x.Body}
	if len(resp.Choices) > 0 {
		o.FinishReason = resp.Choices[0].FinishReason
	}
	if o.Usage == (providers.Usage{}) {
		o.Usage = call.estimatedUsage(responseTextLen(resp))
	}
	a.Body, a.Usage = x.Door.EncodeResponse(resp), o.Usage
	o.ResponseBody = a.Body
	a.outcome = o
	return nil
}

// countTokens serves OpCountTokens: the backend's own counter, forwarded when it speaks the
// door's protocol or through translation when it has one, else the estimate of one token per
// four bytes of prompt. The client's system prompt is counted too, as it will be sent.
func (g *Gateway) countTokens(ctx context.Context, call *Call, x *Exchange, a *Answer) error {
	if err := g.route(ctx, call, func(ctx context.Context, up upstream) error {
		return g.countTokensOn(ctx, call, x, a, up)
	}); err != nil {
		return err
	}
	call.FirstByte()
	call.End(Outcome{Status: 200, RequestBody: x.Body, ResponseBody: a.Body})
	return nil
}

func (g *Gateway) countTokensOn(ctx context.Context, call *Call, x *Exchange, a *Answer, up upstream) error {
	if fw, ok := forwarder(up.provider, x.Door); ok {
		req := x.Forward
		req.Op, req.Body, req.Policy, req.Stream = OpCountTokens, x.Body, call.policy(up.model), false
		f, err := fw.Forward(ctx, req)
		if err != nil {
			return err
		}
		a.Body = f.Body
		return nil
	}
	req, err := x.Decode()
	if err != nil {
		return err
	}
	call.omitted = req.OmittedTools
	call.applyPolicy(req, up.model)
	var n int
	if tc, ok := up.provider.(providers.TokenCounter); ok {
		if n, err = tc.CountTokens(ctx, req); err != nil {
			return err
		}
	} else {
		n = estimateTokens(canonicalTextLen(req))
	}
	a.Body = x.Door.EncodeCount(n)
	return nil
}

// embed serves OpEmbed. A target whose backend has no embeddings endpoint is skipped.
func (g *Gateway) embed(ctx context.Context, call *Call, x *Exchange, a *Answer) error {
	var resp *providers.EmbedResponse
	if err := g.route(ctx, call, func(ctx context.Context, up upstream) error {
		emb, ok := up.provider.(providers.Embedder)
		if !ok {
			return &providers.Error{Kind: providers.KindUnavailable, Provider: up.backend, HTTPStatus: http.StatusNotImplemented,
				Message: "the " + up.backend + " backend has no embeddings endpoint"}
		}
		req := *x.Embed
		req.Model = up.model
		r, err := emb.Embed(ctx, &req)
		resp = r
		return err
	}); err != nil {
		return err
	}
	call.FirstByte()
	u := resp.Usage
	if u == (providers.Usage{}) {
		u = providers.Usage{InputTokens: int(call.adm.InputTokens), Estimated: true}
	}
	a.Usage = u
	if len(resp.Raw) > 0 {
		a.Body = resp.Raw
	} else {
		if resp.Model == "" {
			resp.Model = call.model
		}
		a.Embeddings = resp
	}
	call.End(Outcome{Status: 200, Usage: u, ModelUsed: resp.Model, RequestBody: x.Body})
	return nil
}

// embeddable refuses, before admission, an embeddings request the client's backend cannot serve.
func embeddable(x *Exchange) error {
	c := x.Client
	if c == nil || !c.Active {
		return nil // Begin refuses it
	}
	prov, err := c.Provider()
	if err != nil {
		return nil // Begin refuses it
	}
	if _, ok := prov.(providers.Embedder); !ok {
		return &Refusal{Kind: providers.KindBadRequest, Code: "embeddings_not_supported",
			Message: "the " + c.Backend + " backend of this key has no embeddings endpoint"}
	}
	fw, ok := prov.(providers.Forwarder)
	if raw := ok && fw.Protocol() == x.Door.Protocol(); !raw && len(x.Embed.Input) == 0 {
		// Only the raw body carries token arrays, and only a backend of the door's protocol gets it.
		return &Refusal{Kind: providers.KindBadRequest, Param: "input",
			Message: "input must hold at least one string (token arrays need an OpenAI-compatible backend; this key's is " + c.Backend + ")"}
	}
	return nil
}

// probe asks c's backend for its models (OpProbe, and the model cache's refresh).
func (g *Gateway) probe(ctx context.Context, c *Client) ([]providers.Model, error) {
	p, err := c.Provider()
	if err != nil {
		return nil, err
	}
	ms, err := p.Models(ctx)
	if err != nil {
		return nil, providers.AsError(err)
	}
	return ms, nil
}

// probeTarget asks target n of c for its models, with that target's first key.
func (g *Gateway) probeTarget(ctx context.Context, c *Client, n int) ([]providers.Model, error) {
	if n == 0 {
		return g.probe(ctx, c)
	}
	if n < 0 || n >= len(c.targets) {
		return nil, &Refusal{Kind: providers.KindNotFound, Message: "this client has no such fallback"}
	}
	k := c.targets[n].keys[0]
	if k.err != nil {
		return nil, &providers.Error{Kind: providers.KindInternal, Provider: c.targets[n].backend,
			Message: "this fallback's settings are incomplete or invalid; check its backend, base URL and key"}
	}
	ms, err := k.provider.Models(ctx)
	if err != nil {
		return nil, providers.AsError(err)
	}
	return ms, nil
}

// listModels serves OpModels (see Models).
func (g *Gateway) listModels(ctx context.Context, call *Call, a *Answer) error {
	ms, err := g.Models(ctx, call.client)
	if err != nil {
		return err
	}
	call.FirstByte()
	a.Models = ms
	call.End(Outcome{Status: 200})
	return nil
}

// applyPolicy makes a canonical request say what policy decided: the target's model, the
// client's system prompt first (the caller's own system messages stay after it), the output cap
// and whether the encoder places prompt-cache breakpoints (prompt_cache, auto unless "off").
func (c *Call) applyPolicy(req *providers.Request, model string) {
	req.Model = model
	req.AutoCache = c.client.PromptCache != db.PromptCacheOff
	if sp := c.client.SystemPrompt; sp != "" {
		msgs := make([]providers.Message, 0, len(req.Messages)+1)
		msgs = append(msgs, providers.Message{Role: providers.RoleSystem, Content: []providers.Part{providers.TextPart(sp)}})
		req.Messages = append(msgs, req.Messages...)
	}
	if c.maxOutput > 0 {
		req.MaxTokens = c.maxOutput
	}
}

// estimatedUsage is the usage of an answer the upstream did not count: the admission's input
// estimate and one output token per four bytes. The log row is marked as estimated.
func (c *Call) estimatedUsage(outBytes int) providers.Usage {
	return providers.Usage{InputTokens: int(c.adm.InputTokens), OutputTokens: estimateTokens(outBytes), Estimated: true}
}

// estimateTokens is the documented fallback when an upstream reports no usage: one token per
// four bytes of text.
func estimateTokens(n int) int { return (n + 3) / 4 }

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

// maxLoggedRequest bounds the copy of a streamed request's body kept for its log row (the
// request log itself keeps 64 KiB of it).
const maxLoggedRequest = 128 << 10

// logCopy copies what the request log may keep of a streamed request's body: the stream is
// settled after the front door returned, and the server reuses the request's memory then.
func logCopy(body []byte) []byte { return bytes.Clone(body[:min(len(body), maxLoggedRequest)]) }
