package anthropic

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/aigateway/ai-gateway/providers"
)

// maxBlockIndex bounds the content block index a stream may use, so a broken upstream cannot
// make the decoder allocate without bound.
const maxBlockIndex = 1 << 16

// stream reads an Anthropic SSE body as canonical events.
type stream struct {
	body io.ReadCloser
	sse  *providers.SSEReader
	dec  streamDecoder
	err  error // sticky: returned once the queue is drained
}

func newStream(body io.ReadCloser, provider string) *stream {
	return &stream{body: body, sse: providers.NewSSEReader(body), dec: streamDecoder{provider: provider}}
}

// prime reads until the first canonical event is queued (or the stream failed), so Stream can
// report an upstream that fails before saying anything.
func (s *stream) prime() error {
	for s.dec.pending() == 0 && s.err == nil {
		s.fill()
	}
	if s.dec.pending() == 0 {
		if s.err == io.EOF {
			return providers.EndOfStream(s.dec.provider, 0, false)
		}
		return s.err
	}
	return nil
}

// fill reads one SSE event and decodes it; at the end of the body or on a failure it sets err.
func (s *stream) fill() {
	ev, err := s.sse.Next()
	if err != nil {
		if err == io.EOF {
			s.err = s.dec.end()
			return
		}
		e := providers.AsError(err)
		e.Provider = s.dec.provider
		s.err = e
		return
	}
	if err := s.dec.decode(ev.Name, ev.Data); err != nil {
		s.err = err
		return
	}
	if s.dec.done {
		s.err = io.EOF
	}
}

// Next returns the next canonical event, io.EOF after message_stop, or a *providers.Error.
func (s *stream) Next() (providers.StreamEvent, error) {
	for {
		if ev, ok := s.dec.pop(); ok {
			return ev, nil
		}
		if s.err != nil {
			return providers.StreamEvent{}, s.err
		}
		s.fill()
	}
}

// Close releases the upstream connection, for reuse when message_stop was read; safe to call
// more than once.
func (s *stream) Close() error { return providers.CloseStream(s.body, s.dec.done) }

// Block kinds, by Anthropic content block index.
const (
	blockNone uint8 = iota
	blockText
	blockThinking
	blockTool
	blockOther // redacted_thinking, server tools, anything newer: ignored
)

type blockState struct {
	kind uint8
	// tool is the canonical ToolIndex of a tool_use block.
	tool int
	// args is true once an arguments fragment was emitted for a tool_use block.
	args bool
}

// streamDecoder turns Anthropic stream events into canonical events. It is a plain state
// machine over (event name, data) pairs so it can be fed, fuzzed and benchmarked without I/O.
type streamDecoder struct {
	provider string
	queue    []providers.StreamEvent
	head     int

	started  bool // message_start seen (or synthesized)
	finished bool // message_delta seen
	done     bool // message_stop seen

	tools  int // tool calls started so far: the next ToolIndex
	blocks []blockState

	// Raw usage counts; message_delta overrides those it carries.
	counts usageCounts

	ev wireStreamEvent // reused for decoding
}

func (d *streamDecoder) pending() int { return len(d.queue) - d.head }

func (d *streamDecoder) pop() (providers.StreamEvent, bool) {
	if d.head >= len(d.queue) {
		return providers.StreamEvent{}, false
	}
	ev := d.queue[d.head]
	d.queue[d.head] = providers.StreamEvent{}
	d.head++
	if d.head == len(d.queue) {
		d.queue, d.head = d.queue[:0], 0
	}
	return ev, true
}

func (d *streamDecoder) emit(ev providers.StreamEvent) { d.queue = append(d.queue, ev) }

func (d *streamDecoder) usage() *providers.Usage {
	u := d.counts.canonical()
	return &u
}

func (d *streamDecoder) malformed(format string, args ...any) *providers.Error {
	return &providers.Error{Kind: providers.KindUpstream, HTTPStatus: http.StatusBadGateway,
		Message: "anthropic sent an invalid stream event: " + fmt.Sprintf(format, args...), Provider: d.provider}
}

// end is called at the end of the body: io.EOF when the answer was complete, else an error.
func (d *streamDecoder) end() error {
	events := 0
	if d.started {
		events = 1
	}
	if err := providers.EndOfStream(d.provider, events, d.done || d.finished); err != nil {
		return err
	}
	return io.EOF
}

// start emits EventStart (and the usage known so far) once.
func (d *streamDecoder) start(id, model string) {
	if d.started {
		return
	}
	d.started = true
	d.emit(providers.StreamEvent{Kind: providers.EventStart, ID: id, Model: model, Usage: d.usage()})
	d.emit(providers.StreamEvent{Kind: providers.EventUsage, Usage: d.usage()})
}

// block returns the state of block index i, growing the table; nil when i is out of range.
func (d *streamDecoder) block(i int) *blockState {
	if i < 0 || i >= maxBlockIndex {
		return nil
	}
	if i >= len(d.blocks) {
		d.blocks = append(d.blocks, make([]blockState, i+1-len(d.blocks))...)
	}
	return &d.blocks[i]
}

// decode handles one SSE event. Known events out of order are tolerated where the meaning is
// clear; data that is not JSON, or a tool fragment for a block that never started, is an error.
func (d *streamDecoder) decode(name string, data []byte) error {
	if d.done || name == "ping" {
		return nil
	}
	d.ev = wireStreamEvent{}
	if err := json.Unmarshal(data, &d.ev); err != nil {
		return d.malformed("%v", err)
	}
	ev := &d.ev
	typ := ev.Type
	if name == "error" || typ == "" {
		typ = name
	}
	switch typ {
	case "message_start":
		if ev.Message == nil {
			return d.malformed("message_start without a message")
		}
		d.counts.set(&ev.Message.Usage)
		d.start(ev.Message.ID, ev.Message.Model)

	case "content_block_start":
		d.start("", "")
		b := d.block(ev.Index)
		if b == nil {
			return d.malformed("content block index %d out of range", ev.Index)
		}
		cb := ev.ContentBlock
		if cb == nil {
			return d.malformed("content_block_start without a content_block")
		}
		switch cb.Type {
		case "text":
			*b = blockState{kind: blockText}
			if cb.Text != "" {
				d.emit(providers.StreamEvent{Kind: providers.EventText, Text: cb.Text})
			}
		case "thinking":
			*b = blockState{kind: blockThinking}
			if cb.Thinking != "" || cb.Signature != "" {
				d.emit(providers.StreamEvent{Kind: providers.EventReasoning, Text: cb.Thinking, Signature: cb.Signature})
			}
		case "tool_use":
			*b = blockState{kind: blockTool, tool: d.tools}
			d.tools++
			ev := providers.StreamEvent{Kind: providers.EventToolCall, ToolIndex: b.tool, ToolID: cb.ID, ToolName: cb.Name}
			// Anthropic starts with input {} and streams the arguments; a server that sends the
			// whole input up front gets it passed on as the first fragment.
			if args := compactArgs(cb.Input); args != "{}" {
				ev.Args = args
				b.args = true
			}
			d.emit(ev)
		default:
			*b = blockState{kind: blockOther}
		}

	case "content_block_delta":
		d.start("", "")
		b := d.block(ev.Index)
		if b == nil {
			return d.malformed("content block index %d out of range", ev.Index)
		}
		switch ev.Delta.Type {
		case "text_delta":
			if ev.Delta.Text != "" && (b.kind == blockText || b.kind == blockNone) {
				d.emit(providers.StreamEvent{Kind: providers.EventText, Text: ev.Delta.Text})
			}
		case "thinking_delta":
			if ev.Delta.Thinking != "" && b.kind != blockOther {
				d.emit(providers.StreamEvent{Kind: providers.EventReasoning, Text: ev.Delta.Thinking})
			}
		case "signature_delta":
			if ev.Delta.Signature != "" && b.kind != blockOther {
				d.emit(providers.StreamEvent{Kind: providers.EventReasoning, Signature: ev.Delta.Signature})
			}
		case "input_json_delta":
			switch b.kind {
			case blockTool:
				if ev.Delta.PartialJSON != "" {
					b.args = true
					d.emit(providers.StreamEvent{Kind: providers.EventToolArgs, ToolIndex: b.tool, Args: ev.Delta.PartialJSON})
				}
			case blockOther:
				// Input of a server tool (web search …): not the caller's to run.
			default:
				return d.malformed("input_json_delta for content block %d, which is not a tool_use block", ev.Index)
			}
		}
		// citations_delta and newer delta types have no canonical form.

	case "content_block_stop":
		if b := d.block(ev.Index); b != nil && b.kind == blockTool && !b.args {
			// A call without arguments: say {} so every consumer sees a JSON object.
			b.args = true
			d.emit(providers.StreamEvent{Kind: providers.EventToolArgs, ToolIndex: b.tool, Args: "{}"})
		}

	case "message_delta":
		d.start("", "")
		if u := ev.Usage; u != nil {
			d.counts.merge(u)
		}
		if ev.Delta.StopReason != "" {
			d.finished = true
			d.emit(providers.StreamEvent{Kind: providers.EventFinish, FinishReason: finishReason(ev.Delta.StopReason)})
		}
		d.emit(providers.StreamEvent{Kind: providers.EventUsage, Usage: d.usage()})

	case "message_stop":
		d.start("", "")
		d.done = true

	case "error":
		if ev.Error == nil {
			return d.malformed("error event without an error")
		}
		e := streamError(ev.Error)
		e.Provider = d.provider
		return e
	}
	// ping and unknown events are ignored, as the SDKs do.
	return nil
}
