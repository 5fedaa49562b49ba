package openai

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/jsonscan"
)

// Forwarded is an upstream's successful answer on the same-protocol path, with the backend's
// quirks already mapped back (e.g. Mistral tool-call ids restored to the client's).
//
// A complete answer is in Body. A streamed one is read event by event with Next, which relays
// each SSE payload verbatim and notes usage, finish reason and model as they pass by sniffing the
// bytes — a chunk is never decoded into Go values unless it carries usage or an error.
type Forwarded struct {
	// Status and Header are the upstream's.
	Status int
	Header http.Header
	// Stream is true when the answer is an event stream, read with Next.
	Stream bool
	// Body is the complete chat.completion body when Stream is false.
	Body []byte
	// Buffer holds Body's memory when it came from the answer pool: release it once Body has
	// been copied out (see providers.ReadAnswer). Nil: nothing to release.
	Buffer *providers.AnswerBuffer

	// Usage is the usage the upstream reported: from Body, or the last usage chunk Next has seen.
	Usage providers.Usage
	// HasUsage is true once the upstream reported usage.
	HasUsage bool
	// FinishReason is the last finish_reason the upstream sent, as it sent it.
	FinishReason string
	// Model is the model the upstream says answered, when it said.
	Model string

	// DropUsageChunk, set before the first Next when the client did not ask for
	// stream_options.include_usage, makes Next skip the usage-only chunk (choices: [] plus usage).
	// Its usage is recorded all the same.
	DropUsageChunk bool

	c      *Client
	x      *exchange
	body   io.ReadCloser
	sse    *providers.SSEReader
	events int
	done   bool
	err    error
}

// Protocol is Chat Completions (providers.Forwarder).
func (c *Client) Protocol() string { return providers.ProtocolOpenAI }

// Forward is the same-protocol path (providers.Forwarder): the policy is applied to the body
// (RewriteRequest), the backend's quirks too, and the answer comes back with them mapped back.
// Chat Completions has no token-counting operation: OpCountTokens is a KindBadRequest.
func (c *Client) Forward(ctx context.Context, req providers.ForwardRequest) (providers.Forwarded, error) {
	if req.Op != providers.OpGenerate {
		return providers.Forwarded{}, &providers.Error{Kind: providers.KindBadRequest, Provider: c.preset.id,
			Message: "the " + c.preset.id + " backend cannot count tokens without generating"}
	}
	body, err := RewriteRequest(req.Body, Rewrite{Model: req.Policy.Model, SystemPrompt: req.Policy.SystemPrompt,
		MaxTokens: req.Policy.MaxTokens})
	if err != nil {
		return providers.Forwarded{}, err
	}
	// A rewritten body is this request's alone: it is sent without a copy.
	owned := providers.Fresh(body, req.Body)
	if !req.Stream {
		var f Forwarded // read here and left: it stays on the stack
		if err := c.forwardChat(ctx, body, owned, false, &f); err != nil {
			return providers.Forwarded{}, err
		}
		return providers.Forwarded{Body: f.Body, Buffer: f.Buffer, Summary: f.Summary()}, nil
	}
	f := new(Forwarded)
	if err := c.forwardChat(ctx, body, owned, true, f); err != nil {
		return providers.Forwarded{}, err
	}
	f.DropUsageChunk = !req.IncludeUsage
	return providers.Forwarded{Frames: frames{f}}, nil
}

// Summary is what the answer reported so far.
func (f *Forwarded) Summary() providers.Summary {
	return providers.Summary{Usage: f.Usage, HasUsage: f.HasUsage, FinishReason: f.FinishReason, Model: f.Model}
}

// frames reads a forwarded stream as providers.Frames.
type frames struct{ f *Forwarded }

func (fr frames) Next() (providers.Frame, error) {
	data, err := fr.f.Next()
	return providers.Frame{Data: data, Content: true}, err
}
func (fr frames) Summary() providers.Summary { return fr.f.Summary() }
func (fr frames) Close() error               { return fr.f.Close() }

// ForwardChat sends a client's Chat Completions body (already rewritten by policy, see
// RewriteRequest) to the backend after applying the backend's request quirks, and returns the
// answer with the quirks mapped back. stream must match the body's "stream".
//
// An upstream error status returns a *providers.Error with the upstream's status, message, type
// and code (Mistral's and other envelopes normalised) and its Retry-After; every other failure is
// a *providers.Error too. A streamed answer must be closed.
func (c *Client) ForwardChat(ctx context.Context, body []byte, stream bool) (*Forwarded, error) {
	f := new(Forwarded)
	if err := c.forwardChat(ctx, body, false, stream, f); err != nil {
		return nil, err
	}
	return f, nil
}

// forwardChat is ForwardChat answering into f, which it does not keep: a caller that reads a
// whole answer and leaves f may keep it on its stack. owned says body is the request's to keep
// (see providers.NewRequestOwned); so is a body the quirks rewrote.
func (c *Client) forwardChat(ctx context.Context, body []byte, owned, stream bool, f *Forwarded) error {
	sent, x, err := c.prepare(body, stream)
	if err != nil {
		return err
	}
	resp, err := c.do(ctx, chatOp, sent, stream, owned || providers.Fresh(sent, body))
	if err != nil {
		return err
	}
	if !ok(resp.StatusCode) {
		return c.statusError(resp)
	}
	*f = Forwarded{Status: resp.StatusCode, Header: resp.Header, c: c, x: x}
	if !stream {
		defer resp.Body.Close()
		data, buf, err := c.readAnswer(resp)
		if err != nil {
			return err
		}
		if err := f.complete(x.mapIDsBack(data)); err != nil {
			buf.Release()
			return err
		}
		f.Buffer = buf
		return nil
	}
	f.Stream = true
	if isEventStream(resp.Header) {
		f.body = resp.Body
	} else {
		// The upstream ignored "stream": relay its complete answer as the equivalent stream.
		sse, err := c.jsonAsSSE(resp, x)
		if err != nil {
			return err
		}
		f.body, f.x = io.NopCloser(bytes.NewReader(sse)), nil
	}
	f.sse = providers.NewSSEReader(f.body)
	return nil
}

// complete checks a non-streamed answer and reads its usage, finish reason and model.
func (f *Forwarded) complete(data []byte) error {
	c := f.c
	malformed := func() error {
		return &providers.Error{Kind: providers.KindUpstream, Provider: c.preset.id,
			Message: "upstream sent a malformed chat completion: " + jsonscan.SyntaxError(data)}
	}
	i := jsonscan.SkipSpace(data, 0)
	if i < len(data) && data[i] != '{' {
		if jsonscan.Validate(data) != nil {
			return malformed()
		}
		return &providers.Error{Kind: providers.KindUpstream, Provider: c.preset.id,
			Message: "upstream sent a chat completion that is not a JSON object"}
	}
	// One pass validates the answer (as jsonscan.Validate does) and picks its members.
	var choices, errRaw []byte
	end, err := jsonscan.ScanObject(data, i, 0, func(k []byte, v int) (int, error) {
		end, err := jsonscan.SkipValue(data, v, 1)
		if err != nil {
			return 0, err
		}
		switch val := data[v:end]; string(k) {
		case "usage":
			if u, ok := parseUsage(val); ok {
				f.Usage, f.HasUsage = u, true
			}
		case "model":
			f.Model, _ = jsonscan.StringValue(val)
		case "choices":
			choices = val
		case "error":
			errRaw = val
		}
		return end, nil
	})
	if err != nil || jsonscan.SkipSpace(data, end) != len(data) {
		return malformed()
	}
	if !jsonscan.IsNull(errRaw) && jsonscan.IsNull(choices) {
		e := c.streamError(data)
		e.HTTPStatus = http.StatusBadGateway
		return e
	}
	if len(choices) > 0 && choices[0] == '[' {
		_ = jsonscan.EachElement(choices, func(ch []byte) bool {
			if fr := jsonscan.Field(ch, "finish_reason"); len(fr) > 0 && fr[0] == '"' {
				f.FinishReason, _ = jsonscan.StringValue(fr)
			}
			return true
		})
	}
	f.Body = data
	return nil
}

// Next returns the payload of the next SSE event to relay (the bytes after "data: "), valid until
// the next call. It returns io.EOF after [DONE], or at the end of a body that reported a
// finish_reason (the caller writes data: [DONE] itself), and a *providers.Error for an upstream
// error event, malformed data, an empty stream, a stream cut off before it finished, or a read
// failure (idle timeout, cancellation).
func (f *Forwarded) Next() ([]byte, error) {
	if f.err != nil {
		return nil, f.err
	}
	if f.done || f.sse == nil {
		return nil, io.EOF
	}
	for {
		ev, err := f.sse.Next()
		if errors.Is(err, io.EOF) {
			// Neither [DONE] nor a finish_reason: the answer was cut off, not finished.
			if err := providers.EndOfStream(f.c.preset.id, f.events, f.FinishReason != ""); err != nil {
				return nil, f.fail(providers.AsError(err))
			}
			f.done = true
			return nil, io.EOF
		}
		if err != nil {
			return nil, f.fail(providers.AsError(err))
		}
		data := ev.Data
		if len(data) == 0 {
			continue
		}
		if data[0] == '[' && bytes.Equal(bytes.TrimSpace(data), []byte("[DONE]")) {
			if err := providers.EndOfStream(f.c.preset.id, f.events, true); err != nil {
				return nil, f.fail(providers.AsError(err))
			}
			f.done = true
			return nil, io.EOF
		}
		if jsonscan.Validate(data) != nil {
			return nil, f.fail(&providers.Error{Kind: providers.KindUpstream,
				Message: "upstream sent malformed stream data: " + jsonscan.SyntaxError(data)})
		}
		if ev.Name == "error" || (bytes.Contains(data, []byte(`"error"`)) && isErrorChunk(data)) {
			return nil, f.fail(f.c.streamError(data))
		}
		if f.Model == "" {
			if i := jsonscan.ValueAfterKey(data, `"model"`); i >= 0 && i < len(data) && data[i] == '"' {
				if end, err := jsonscan.SkipString(data, i); err == nil {
					f.Model, _ = jsonscan.StringValue(data[i:end])
				}
			}
		}
		if i := jsonscan.ValueAfterKey(data, `"usage"`); i >= 0 && i < len(data) && data[i] == '{' {
			if end, err := jsonscan.SkipValue(data, i, 1); err == nil {
				if u, ok := parseUsage(data[i:end]); ok {
					f.Usage, f.HasUsage = u, true
				}
				if f.DropUsageChunk && emptyChoices(data) {
					continue
				}
			}
		}
		if i := jsonscan.ValueAfterKey(data, `"finish_reason"`); i >= 0 && i < len(data) && data[i] == '"' {
			if end, err := jsonscan.SkipString(data, i); err == nil && !jsonscan.StringEquals(data[i:end], f.FinishReason) {
				f.FinishReason, _ = jsonscan.StringValue(data[i:end])
			}
		}
		if f.x != nil {
			data = f.x.mapIDsBack(data)
		}
		f.events++
		return data, nil
	}
}

func (f *Forwarded) fail(e *providers.Error) error {
	if e.Provider == "" {
		e.Provider = f.c.preset.id
	}
	f.err = e
	return e
}

// isErrorChunk reports whether a stream payload is an error event rather than a chunk that merely
// mentions an "error" key somewhere (e.g. in Azure's content filter results).
func isErrorChunk(data []byte) bool {
	if e := jsonscan.Field(data, "error"); !jsonscan.IsNull(e) {
		return true
	}
	return jsonscan.StringEquals(jsonscan.Field(data, "object"), "error") && jsonscan.IsNull(jsonscan.Field(data, "choices"))
}

// emptyChoices reports whether the chunk's choices array is empty (the usage-only chunk).
func emptyChoices(data []byte) bool {
	i := jsonscan.ValueAfterKey(data, `"choices"`)
	if i < 0 || i >= len(data) || data[i] != '[' {
		return false
	}
	j := jsonscan.SkipSpace(data, i+1)
	return j < len(data) && data[j] == ']'
}

// Close releases the upstream connection, for reuse when the stream ended whole; it is safe to
// call more than once.
func (f *Forwarded) Close() error {
	if f.body == nil {
		return nil
	}
	err := providers.CloseStream(f.body, f.done)
	f.body = nil
	return err
}
