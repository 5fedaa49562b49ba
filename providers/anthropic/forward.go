package anthropic

import (
	"context"
	"errors"
	"io"

	"github.com/aigateway/ai-gateway/providers"
)

// Protocol is the Messages API (providers.Forwarder).
func (c *Client) Protocol() string { return providers.ProtocolAnthropic }

// Forward is the same-protocol path (providers.Forwarder): only the model, the system prompt and
// max_tokens change (RewriteRequest); the caller's anthropic-beta and anthropic-version headers
// go along. OpCountTokens is POST /v1/messages/count_tokens.
func (c *Client) Forward(ctx context.Context, req *providers.ForwardRequest) (*providers.Forwarded, error) {
	op, rw := "messages", Rewrite{Model: req.Policy.Model, System: req.Policy.SystemPrompt, MaxTokens: req.Policy.MaxTokens}
	if req.Op == providers.OpCountTokens {
		op, rw.MaxTokens = "messages/count_tokens", 0
	}
	body, err := RewriteRequest(req.Body, rw)
	if err != nil {
		return nil, err
	}
	resp, err := c.DoWith(ctx, op, body, req.Stream, ForwardOptions{
		Beta: req.Header.Get("anthropic-beta"), Version: req.Header.Get("anthropic-version")})
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		return nil, c.statusError(resp)
	}
	if !req.Stream {
		defer resp.Body.Close()
		b, err := providers.ReadBody(resp.Body, resp.ContentLength, providers.MaxAnswerBody)
		if err != nil {
			return nil, c.tag(err)
		}
		if e := providers.CheckJSON(c.cfg.Backend, "message", b); e != nil {
			return nil, e
		}
		f := &providers.Forwarded{Body: b}
		if req.Op == providers.OpGenerate {
			u, finish, ok := UsageFromBody(b)
			f.Summary = providers.Summary{Usage: u, HasUsage: ok, FinishReason: finish}
		}
		return f, nil
	}
	return &providers.Forwarded{Frames: &frames{c: c, body: resp.Body, sse: providers.NewSSEReader(resp.Body)}}, nil
}

// frames relays a Messages stream event by event, sniffing usage and the stop reason.
type frames struct {
	c       *Client
	body    io.ReadCloser
	sse     *providers.SSEReader
	sniff   UsageSniffer
	events  int
	stopped bool
	err     error
}

func (f *frames) Next() (providers.Frame, error) {
	if f.err != nil {
		return providers.Frame{}, f.err
	}
	ev, err := f.sse.Next()
	switch {
	case errors.Is(err, io.EOF):
		f.err = io.EOF
		if e := providers.EndOfStream(f.c.cfg.Backend, f.events, f.stopped); e != nil {
			f.err = e
		}
		return providers.Frame{}, f.err
	case err != nil:
		f.err = f.c.tag(err)
		return providers.Frame{}, f.err
	}
	if e := providers.CheckJSON(f.c.cfg.Backend, "stream event", ev.Data); e != nil {
		f.err = e
		return providers.Frame{}, e
	}
	f.sniff.Observe(ev.Name, ev.Data)
	if e := f.sniff.Err(); e != nil {
		// The upstream's error event: the door writes it in-band, with its type and message.
		e.Provider = f.c.cfg.Backend
		f.err = e
		return providers.Frame{}, e
	}
	f.events++
	if ev.Name == "message_stop" {
		f.stopped = true
	}
	return providers.Frame{Event: ev.Name, Data: ev.Data, Content: ev.Name == "content_block_delta"}, nil
}

func (f *frames) Summary() providers.Summary {
	return providers.Summary{Usage: f.sniff.Usage(), HasUsage: f.sniff.Seen(), FinishReason: f.sniff.FinishReason()}
}

func (f *frames) Close() error { return providers.CloseStream(f.body, f.err == io.EOF) }
