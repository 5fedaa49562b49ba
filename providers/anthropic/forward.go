package anthropic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"

	"github.com/aigateway/ai-gateway/providers"
)

// Protocol is the Messages API (providers.Forwarder).
func (c *Client) Protocol() string { return providers.ProtocolAnthropic }

// Forward is the same-protocol path (providers.Forwarder): only the model, the system prompt and
// max_tokens change (RewriteRequest); the caller's anthropic-beta and anthropic-version headers
// go along. OpCountTokens is POST /v1/messages/count_tokens.
func (c *Client) Forward(ctx context.Context, req providers.ForwardRequest) (providers.Forwarded, error) {
	op, rw := "messages", Rewrite{Model: req.Policy.Model, System: req.Policy.SystemPrompt, MaxTokens: req.Policy.MaxTokens}
	if req.Op == providers.OpCountTokens {
		op, rw.MaxTokens = "messages/count_tokens", 0
	}
	body, err := RewriteRequest(req.Body, rw)
	if err != nil {
		return providers.Forwarded{}, err
	}
	// A rewritten body is this request's alone: it is sent without a copy.
	resp, err := c.DoWith(ctx, op, body, req.Stream, ForwardOptions{
		Beta: req.Header.Get("anthropic-beta"), Version: req.Header.Get("anthropic-version"),
		owned: providers.Fresh(body, req.Body)})
	if err != nil {
		return providers.Forwarded{}, err
	}
	if resp.StatusCode >= 300 {
		return providers.Forwarded{}, c.statusError(resp)
	}
	if !req.Stream {
		defer resp.Body.Close()
		b, buf, err := providers.ReadAnswer(resp.Body, resp.ContentLength, providers.MaxAnswerBody)
		if err != nil {
			return providers.Forwarded{}, c.tag(err)
		}
		if e := providers.CheckJSON(c.cfg.Backend, "message", b); e != nil {
			buf.Release()
			return providers.Forwarded{}, e
		}
		f := providers.Forwarded{Body: b, Buffer: buf}
		if req.Op == providers.OpGenerate {
			u, finish, ok := UsageFromBody(b)
			f.Summary = providers.Summary{Usage: u, HasUsage: ok, FinishReason: finish}
		}
		return f, nil
	}
	return providers.Forwarded{Frames: &frames{c: c, body: resp.Body, sse: providers.NewSSEReader(resp.Body)}}, nil
}

// usageEvent is the part of message_start / message_delta / error data the sniffer reads.
type usageEvent struct {
	Type    string `json:"type"`
	Message *struct {
		Usage wireUsage `json:"usage"`
	} `json:"message"`
	Delta struct {
		StopReason string `json:"stop_reason"`
	} `json:"delta"`
	Usage *wireUsage `json:"usage"`
	Error *wireError `json:"error"`
}

// UsageFromEvent returns the usage one relayed Anthropic SSE event carries: message_start's
// input and cache counts (and its initial output count), or message_delta's cumulative output
// count (plus input and cache counts when the upstream includes them). Counts the event does not
// carry are 0; UsageSniffer merges a whole stream. ok is false for every other event, which costs
// a string comparison (or, without an event name, a bytes.Contains).
func UsageFromEvent(name string, data []byte) (u providers.Usage, ok bool) {
	var s UsageSniffer
	if !s.observe(name, data) {
		return providers.Usage{}, false
	}
	return s.Usage(), true
}

// UsageSniffer collects usage, the stop reason and an in-band error from the events of a relayed
// Anthropic stream. The zero value is ready; feed it every event with Observe. Only
// message_start, message_delta and error events are parsed.
type UsageSniffer struct {
	counts usageCounts
	seen   bool
	stop   string
	err    *providers.Error
}

// Observe looks at one SSE event (name may be empty when the stream has no event lines).
func (s *UsageSniffer) Observe(name string, data []byte) { s.observe(name, data) }

func (s *UsageSniffer) observe(name string, data []byte) bool {
	switch name {
	case "message_start", "message_delta", "error":
	case "":
		if !bytes.Contains(data, []byte(`"message_start"`)) && !bytes.Contains(data, []byte(`"message_delta"`)) &&
			!bytes.Contains(data, []byte(`"error"`)) {
			return false
		}
	default:
		return false
	}
	var ev usageEvent
	if json.Unmarshal(data, &ev) != nil {
		return false
	}
	if name == "error" || ev.Type == "error" {
		if ev.Error != nil {
			s.err = streamError(ev.Error)
		}
		return false
	}
	switch ev.Type {
	case "message_start":
		if ev.Message == nil {
			return false
		}
		s.counts.set(&ev.Message.Usage)
	case "message_delta":
		if ev.Delta.StopReason != "" {
			s.stop = ev.Delta.StopReason
		}
		if u := ev.Usage; u != nil {
			s.counts.merge(u)
		}
	default:
		return false
	}
	s.seen = true
	return true
}

// Usage is the usage so far, in canonical terms (input includes cache writes and reads).
func (s *UsageSniffer) Usage() providers.Usage {
	return s.counts.canonical()
}

// Seen reports whether any usage event was observed (false: the upstream reported nothing and
// the caller should estimate).
func (s *UsageSniffer) Seen() bool { return s.seen }

// StopReason is the Anthropic stop_reason of the last message_delta ("" before it).
func (s *UsageSniffer) StopReason() string { return s.stop }

// FinishReason is StopReason as a canonical finish reason ("" before message_delta).
func (s *UsageSniffer) FinishReason() string {
	if s.stop == "" {
		return ""
	}
	return finishReason(s.stop)
}

// Err is the in-band error event the stream carried, if any.
func (s *UsageSniffer) Err() *providers.Error { return s.err }

// UsageFromBody reads usage and the canonical finish reason from a non-stream Messages answer.
// ok is false when the body carries no usage (an error body, or not a Message).
func UsageFromBody(body []byte) (u providers.Usage, finish string, ok bool) {
	if !bytes.Contains(body, []byte(`"usage"`)) {
		return providers.Usage{}, "", false
	}
	var m struct {
		StopReason string     `json:"stop_reason"`
		Usage      *wireUsage `json:"usage"`
	}
	if json.Unmarshal(body, &m) != nil || m.Usage == nil {
		return providers.Usage{}, "", false
	}
	finish = ""
	if m.StopReason != "" {
		finish = finishReason(m.StopReason)
	}
	return usageOf(*m.Usage), finish, true
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
