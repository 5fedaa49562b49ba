package gemini

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"github.com/aigateway/ai-gateway/providers"
)

// streamDecoder turns the data of each streamGenerateContent SSE event (one whole
// GenerateContentResponse with incremental parts) into canonical stream events.
type streamDecoder struct {
	model  string
	random func() string

	started  bool
	nextTool int
	sawCall  map[int]bool
	usage    providers.Usage
	hasUsage bool
	// finished is set once a finish reason (or a prompt block) arrived: a stream that ends
	// without one was cut off.
	finished bool
}

// decode appends the events of one chunk to out. Each chunk yields, in order: EventStart (first
// chunk only), the candidates' text, reasoning and tool-call events, their finish events, and an
// EventUsage when usageMetadata changed (it is cumulative; the last one wins). An error object
// in the stream becomes the upstream's *providers.Error; malformed JSON a KindUpstream one.
// Thought signatures on text parts are not passed on: Gemini validates only the signatures of
// function calls, and those travel in the tool-call ids.
func (d *streamDecoder) decode(data []byte, out []providers.StreamEvent) ([]providers.StreamEvent, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || string(data) == "[DONE]" {
		return out, nil
	}
	var r gResponse
	if err := json.Unmarshal(data, &r); err != nil {
		return out, malformed(err.Error())
	}
	if r.Error != nil {
		return out, errorFrom(r.Error, http.StatusBadGateway, "")
	}
	if !d.started {
		d.started = true
		ev := providers.StreamEvent{Kind: providers.EventStart, ID: r.ResponseID, Model: r.ModelVersion}
		if ev.ID == "" {
			ev.ID = d.random()
		}
		if ev.Model == "" {
			ev.Model = d.model
		}
		out = append(out, ev)
	}
	var finishes []providers.StreamEvent
	for ci := range r.Candidates {
		c := &r.Candidates[ci]
		if c.Index < 0 || c.Index >= maxCandidates {
			return out, malformed("candidate index out of range")
		}
		if c.Content != nil {
			for i := range c.Content.Parts {
				p := &c.Content.Parts[i]
				switch {
				case p.FunctionCall != nil:
					tc := toolCallFrom(p, d.random())
					out = append(out, providers.StreamEvent{Kind: providers.EventToolCall, Choice: c.Index,
						ToolIndex: d.nextTool, ToolID: tc.ID, ToolName: tc.Name, Args: tc.Arguments, Signature: tc.Signature})
					d.nextTool++
					if d.sawCall == nil {
						d.sawCall = map[int]bool{}
					}
					d.sawCall[c.Index] = true
				case p.Text == "":
				case p.Thought:
					out = append(out, providers.StreamEvent{Kind: providers.EventReasoning, Choice: c.Index, Text: p.Text})
				default:
					out = append(out, providers.StreamEvent{Kind: providers.EventText, Choice: c.Index, Text: p.Text})
				}
			}
		}
		if c.FinishReason != "" {
			finishes = append(finishes, providers.StreamEvent{Kind: providers.EventFinish, Choice: c.Index,
				FinishReason: finishReason(c.FinishReason, d.sawCall[c.Index])})
		}
	}
	out = append(out, finishes...)
	if len(r.Candidates) == 0 && r.PromptFeedback != nil && r.PromptFeedback.BlockReason != "" {
		out = append(out, providers.StreamEvent{Kind: providers.EventFinish, FinishReason: providers.FinishContentFilter})
		d.finished = true
	}
	if len(finishes) > 0 {
		d.finished = true
	}
	if r.UsageMetadata != nil {
		u := usageFrom(r.UsageMetadata)
		if !d.hasUsage || u != d.usage {
			d.usage, d.hasUsage = u, true
			out = append(out, providers.StreamEvent{Kind: providers.EventUsage, Usage: &u})
		}
	}
	return out, nil
}

// stream is an open streamGenerateContent?alt=sse answer.
type stream struct {
	body io.ReadCloser
	sse  *providers.SSEReader
	dec  streamDecoder
	c    *Client

	queue []providers.StreamEvent
	next  int
	err   error
}

// Next returns the next canonical event, io.EOF after the last, or a *providers.Error.
func (s *stream) Next() (providers.StreamEvent, error) {
	for {
		if s.next < len(s.queue) {
			ev := s.queue[s.next]
			s.next++
			return ev, nil
		}
		if s.err != nil {
			return providers.StreamEvent{}, s.err
		}
		s.queue, s.next = s.queue[:0], 0
		ev, err := s.sse.Next()
		switch {
		case err == io.EOF:
			events := 0
			if s.dec.started {
				events = 1
			}
			s.err = providers.EndOfStream("gemini", events, s.dec.finished)
			if s.err == nil {
				s.err = io.EOF
			}
		case err != nil:
			s.err = s.c.asError(err)
		default:
			var derr error
			if s.queue, derr = s.dec.decode(ev.Data, s.queue); derr != nil {
				s.err = derr
			}
		}
	}
}

// Close releases the upstream connection, for reuse when the stream ended whole; safe to call
// more than once.
func (s *stream) Close() error {
	return providers.CloseStream(s.body, s.err == io.EOF)
}
