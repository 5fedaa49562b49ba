package gemini

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/aigateway/ai-gateway/providers"
)

// Protocol is the native Gemini API (providers.Forwarder).
func (c *Client) Protocol() string { return providers.ProtocolGemini }

// Forward is the same-protocol path (providers.Forwarder): only the system instruction and
// maxOutputTokens change in the body, and the model names the upstream path (validated, so no
// model id can change the URL's meaning). A stream is always asked of the upstream as SSE; the
// front door writes it in the caller's framing. OpCountTokens is models/{model}:countTokens.
func (c *Client) Forward(ctx context.Context, req *providers.ForwardRequest) (*providers.Forwarded, error) {
	path, err := modelPath(req.Policy.Model)
	if err != nil {
		return nil, err
	}
	var body []byte
	switch {
	case req.Op == providers.OpCountTokens:
		path += ":countTokens"
		body, err = RewriteCountTokens(req.Body, req.Policy.Model, req.Policy.SystemPrompt)
	case req.Stream:
		path += ":streamGenerateContent?alt=sse"
		body, err = RewriteRequest(req.Body, Rewrite{SystemPrompt: req.Policy.SystemPrompt, MaxTokens: req.Policy.MaxTokens})
	default:
		path += ":generateContent"
		body, err = RewriteRequest(req.Body, Rewrite{SystemPrompt: req.Policy.SystemPrompt, MaxTokens: req.Policy.MaxTokens})
	}
	if err != nil {
		return nil, err
	}
	resp, err := c.send(ctx, http.MethodPost, path, body)
	if err != nil {
		return nil, c.asError(err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		return nil, c.redact(statusError(resp))
	}
	if !req.Stream {
		defer resp.Body.Close()
		b, err := providers.ReadBody(resp.Body, resp.ContentLength, providers.MaxAnswerBody)
		if err != nil {
			return nil, c.asError(err)
		}
		if e := providers.CheckJSON(c.cfg.Backend, "response", b); e != nil {
			return nil, e
		}
		f := &providers.Forwarded{Body: b}
		if req.Op == providers.OpGenerate {
			var finish FinishSniffer
			finish.Observe(b)
			u, ok := UsageFromChunk(b)
			f.Summary = providers.Summary{Usage: u, HasUsage: ok, FinishReason: finish.FinishReason()}
		}
		return f, nil
	}
	return &providers.Forwarded{Frames: &frames{c: c, body: resp.Body, sse: providers.NewSSEReader(resp.Body)}}, nil
}

// redact keeps the upstream key out of an error message an upstream may have echoed it into.
func (c *Client) redact(e *providers.Error) *providers.Error {
	e.Provider = c.cfg.Backend
	if k := c.cfg.APIKey; k != "" {
		e.Message = strings.ReplaceAll(e.Message, k, "[redacted]")
	}
	return e
}

// frames relays a Gemini SSE stream chunk by chunk, sniffing usage and the finish reason.
type frames struct {
	c        *Client
	body     io.ReadCloser
	sse      *providers.SSEReader
	finish   FinishSniffer
	usage    providers.Usage
	hasUsage bool
	chunks   int
	err      error
}

func (f *frames) Next() (providers.Frame, error) {
	if f.err != nil {
		return providers.Frame{}, f.err
	}
	ev, err := f.sse.Next()
	switch {
	case errors.Is(err, io.EOF):
		f.err = io.EOF
		if e := providers.EndOfStream(f.c.cfg.Backend, f.chunks, f.finish.FinishReason() != ""); e != nil {
			f.err = e
		}
		return providers.Frame{}, f.err
	case err != nil:
		f.err = f.c.asError(err)
		return providers.Frame{}, f.err
	}
	if e := providers.CheckJSON(f.c.cfg.Backend, "stream chunk", ev.Data); e != nil {
		f.err = e
		return providers.Frame{}, e
	}
	pieces := 0
	if u, ok := UsageFromChunk(ev.Data); ok {
		f.usage, f.hasUsage = u, true
	} else if !f.hasUsage {
		pieces = CandidatesIn(ev.Data)
	}
	f.finish.Observe(ev.Data)
	f.chunks++
	return providers.Frame{Data: ev.Data, Content: true, Pieces: pieces}, nil
}

func (f *frames) Summary() providers.Summary {
	return providers.Summary{Usage: f.usage, HasUsage: f.hasUsage, FinishReason: f.finish.FinishReason()}
}

func (f *frames) Close() error { return providers.CloseStream(f.body, f.err == io.EOF) }
