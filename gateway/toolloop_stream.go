package gateway

import (
	"context"
	"errors"
	"io"
	"strings"

	"github.com/aigateway/ai-gateway/providers"
)

// loopStream is the tool loop of a streaming caller (SPEC §18): every model call is an upstream
// stream, relayed to the caller as it arrives, and together they make one stream. The caller
// gets the first call's start, the text and reasoning of every call, and the calls to its own
// tools (numbered from 0 in its stream); the calls to the gateway's tools are held back. When a
// call ends having called only the gateway's tools (and the step cap allows another), the tools
// run while the caller waits (the relay writes keepalives) and the next call streams on. The
// last call's finish reason ends the stream, with the usage summed over every call; a failure
// ends it with the usage so far before the error, so it is accounted.
//
// Next and Close are called from one goroutine (the relay's), so nothing here is locked.
type loopStream struct {
	ctx  context.Context
	loop *toolLoop
	// up is the current model call's stream.
	up providers.Stream
	// turn is what the current model call said so far.
	turn streamedTurn
	// started is set once the caller had its start event.
	started bool
	// out are events for the caller, given before reading on; end, once set, follows them.
	out []providers.StreamEvent
	end error
}

func (s *loopStream) Next() (providers.StreamEvent, error) {
	for {
		if len(s.out) > 0 {
			ev := s.out[0]
			s.out = s.out[1:]
			return ev, nil
		}
		if s.end != nil {
			return providers.StreamEvent{}, s.end
		}
		ev, err := s.up.Next()
		if errors.Is(err, io.EOF) {
			s.turnOver()
			continue
		}
		if err != nil {
			// The call failed mid-stream: what it said so far counts, as in a plain stream.
			if !s.turn.hasUsage {
				s.turn.usage, s.turn.hasUsage = s.loop.call.estimatedUsage(s.turn.outBytes), true
			}
			s.fail(err)
			continue
		}
		if ev, ok := s.relayed(ev); ok {
			return ev, nil
		}
	}
}

// relayed takes in one event of the current model call and says what of it the caller gets.
func (s *loopStream) relayed(ev providers.StreamEvent) (providers.StreamEvent, bool) {
	t := &s.turn
	if ev.Kind == providers.EventStart {
		if s.started {
			return ev, false
		}
		s.started = true
		return ev, true
	}
	if ev.Choice != 0 {
		// The loop follows the first choice, as it does for a whole answer.
		return ev, true
	}
	switch ev.Kind {
	case providers.EventText:
		t.text.WriteString(ev.Text)
		t.outBytes += len(ev.Text)
	case providers.EventReasoning:
		t.msg.Reasoning += ev.Text
		if ev.Signature != "" {
			t.msg.ReasoningSignature = ev.Signature
		}
		t.outBytes += len(ev.Text)
	case providers.EventToolCall:
		c := &turnCall{call: providers.ToolCall{ID: ev.ToolID, Name: ev.ToolName, Signature: ev.Signature},
			mine: s.loop.gatewayTool[ev.ToolName]}
		c.args.WriteString(ev.Args)
		t.outBytes += len(ev.ToolName) + len(ev.Args)
		if t.calls == nil {
			t.calls = map[int]*turnCall{}
		}
		t.calls[ev.ToolIndex] = c
		t.order = append(t.order, c)
		if c.mine {
			return ev, false
		}
		c.index = t.theirs
		t.theirs++
		ev.ToolIndex = c.index
	case providers.EventToolArgs:
		c := t.calls[ev.ToolIndex]
		if c == nil {
			return ev, true
		}
		c.args.WriteString(ev.Args)
		t.outBytes += len(ev.Args)
		if c.mine {
			return ev, false
		}
		ev.ToolIndex = c.index
	case providers.EventFinish:
		t.finish = ev.FinishReason
		return ev, false
	case providers.EventUsage:
		if ev.Usage != nil {
			t.usage, t.hasUsage = *ev.Usage, true
		}
		return ev, false
	}
	return ev, true
}

// turnOver ends the current model call: the stream's end when the answer is final, else the
// gateway's calls are run and the next model call is started.
func (s *loopStream) turnOver() {
	l, t := s.loop, &s.turn
	s.up.Close()
	u := t.usage
	if !t.hasUsage {
		u = l.call.estimatedUsage(t.outBytes)
	}
	l.total.Add(u)
	msg := t.message()
	mine, theirs := l.split(msg.ToolCalls)
	if len(mine) == 0 || len(theirs) > 0 || l.step >= l.maxSteps {
		finish := t.finish
		if len(mine) > 0 && len(theirs) == 0 && finish == providers.FinishToolCalls {
			finish = providers.FinishStop // the calls the caller would wait for were not its own
		}
		if finish != "" {
			s.out = append(s.out, providers.StreamEvent{Kind: providers.EventFinish, FinishReason: finish})
		}
		total := l.total
		s.out = append(s.out, providers.StreamEvent{Kind: providers.EventUsage, Usage: &total})
		s.end = io.EOF
		return
	}
	s.turn = streamedTurn{}
	if err := l.runTools(s.ctx, msg, mine); err != nil {
		s.fail(err)
		return
	}
	l.lastStep()
	up, err := l.g.streamOnce(s.ctx, l.call, l.req)
	if err != nil {
		s.fail(err)
		return
	}
	s.up = up
}

// fail ends the stream with err, after the usage of the model calls so far (the current one's
// when it reported some).
func (s *loopStream) fail(err error) {
	l, t := s.loop, &s.turn
	if t.hasUsage {
		l.total.Add(t.usage)
		t.hasUsage = false
	}
	if l.total != (providers.Usage{}) {
		total := l.total
		s.out = append(s.out, providers.StreamEvent{Kind: providers.EventUsage, Usage: &total})
	}
	s.end = err
}

func (s *loopStream) Close() error {
	if s.up != nil {
		return s.up.Close()
	}
	return nil
}

// streamedTurn is one model call of a streamed tool loop as far as it has been read: the model's
// message as the next call needs it, and what the caller did not get yet.
type streamedTurn struct {
	msg  providers.Message
	text strings.Builder
	// calls are the first choice's tool calls by the upstream's index; order in order of arrival.
	calls map[int]*turnCall
	order []*turnCall
	// theirs counts the calls to the client's own tools, relayed as they came.
	theirs   int
	finish   string
	usage    providers.Usage
	hasUsage bool
	// outBytes counts answer bytes, for an estimate when the upstream reports no usage.
	outBytes int
}

// turnCall is one tool call of a streamed turn: mine when it calls a gateway tool (held back),
// else the client's, relayed at index.
type turnCall struct {
	call  providers.ToolCall
	args  strings.Builder
	mine  bool
	index int
}

// message is the model's turn as a message, its tool calls in order of arrival.
func (t *streamedTurn) message() providers.Message {
	m := t.msg
	m.Role = providers.RoleAssistant
	if t.text.Len() > 0 {
		m.Content = []providers.Part{providers.TextPart(t.text.String())}
	}
	for _, c := range t.order {
		tc := c.call
		tc.Arguments = c.args.String()
		if tc.Arguments == "" {
			tc.Arguments = "{}" // a call without arguments, streamed without a fragment
		}
		m.ToolCalls = append(m.ToolCalls, tc)
	}
	return m
}
