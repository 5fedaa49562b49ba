package gateway

import (
	"context"
	"io"

	"github.com/aigateway/ai-gateway/providers"
)

// replayed is a whole answer as a stream of canonical events: the final turn of the tool loop
// for a streaming caller, encoded by the door's own stream writer.
type replayed struct {
	events []providers.StreamEvent
	// err ends the stream after the events (a failed loop); nil is io.EOF.
	err error
}

// replay turns resp (its first choice) into the events a streamed answer would have had; its
// Usage is reported last.
func replay(resp *providers.Response) *replayed {
	r := &replayed{events: []providers.StreamEvent{{Kind: providers.EventStart, ID: resp.ID, Model: resp.Model}}}
	if len(resp.Choices) > 0 {
		ch := resp.Choices[0]
		m := ch.Message
		if m.Reasoning != "" || m.ReasoningSignature != "" {
			r.events = append(r.events, providers.StreamEvent{Kind: providers.EventReasoning, Text: m.Reasoning, Signature: m.ReasoningSignature})
		}
		if t := m.Text(); t != "" {
			r.events = append(r.events, providers.StreamEvent{Kind: providers.EventText, Text: t})
		}
		for i, tc := range m.ToolCalls {
			r.events = append(r.events, providers.StreamEvent{Kind: providers.EventToolCall, ToolIndex: i,
				ToolID: tc.ID, ToolName: tc.Name, Args: tc.Arguments, Signature: tc.Signature})
		}
		r.events = append(r.events, providers.StreamEvent{Kind: providers.EventFinish, FinishReason: ch.FinishReason})
	}
	u := resp.Usage
	r.events = append(r.events, providers.StreamEvent{Kind: providers.EventUsage, Usage: &u})
	return r
}

func (r *replayed) Next() (providers.StreamEvent, error) {
	if len(r.events) == 0 {
		if r.err != nil {
			return providers.StreamEvent{}, r.err
		}
		return providers.StreamEvent{}, io.EOF
	}
	ev := r.events[0]
	r.events = r.events[1:]
	return ev, nil
}

func (r *replayed) Close() error { return nil }

// loopStream is the stream of a tool loop that still has tools to run: its first Next runs the
// loop to the final answer (the relay writes keepalives while it waits), then replays it. When
// the loop fails, the usage so far is reported before the error, so it is accounted.
type loopStream struct {
	ctx  context.Context
	loop *toolLoop
	out  *replayed
}

func (s *loopStream) Next() (providers.StreamEvent, error) {
	if s.out == nil {
		var resp *providers.Response
		var err error
		for resp == nil && err == nil {
			resp, err = s.loop.turn(s.ctx)
		}
		if err != nil {
			u := s.loop.total
			s.out = &replayed{events: []providers.StreamEvent{{Kind: providers.EventUsage, Usage: &u}}, err: err}
		} else {
			resp.Usage = s.loop.total
			s.out = replay(resp)
		}
	}
	return s.out.Next()
}

func (s *loopStream) Close() error { return nil }
