package gateway

import (
	"io"

	"github.com/aigateway/ai-gateway/providers"
)

// replayed is a whole answer as a stream of canonical events: the final turn of the tool loop
// for a streaming caller, encoded by the door's own stream writer.
type replayed struct {
	events []providers.StreamEvent
}

// replay turns resp (its first choice) into the events a streamed answer would have had.
func replay(resp *providers.Response) providers.Stream {
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
		return providers.StreamEvent{}, io.EOF
	}
	ev := r.events[0]
	r.events = r.events[1:]
	return ev, nil
}

func (r *replayed) Close() error { return nil }
