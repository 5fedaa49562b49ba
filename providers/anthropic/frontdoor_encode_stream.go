package anthropic

import (
	"encoding/json"

	"github.com/aigateway/ai-gateway/providers"
)

// Tool call states in a StreamEncoder, by canonical ToolIndex.
const (
	toolUnseen uint8 = iota
	toolOpen
	toolClosed
)

// StreamEncoder writes canonical stream events (from any backend's translator) as the exact
// Anthropic Messages event sequence: message_start, ping, then for each content block
// content_block_start / content_block_delta… / content_block_stop, and at the end (Finish)
// message_delta with the stop reason and usage, then message_stop.
//
// Blocks get indices 0, 1, 2… in the order they open; a block is closed when a different one
// opens, so at most one is open at a time and the output reads like Anthropic's own. Reasoning
// goes to thinking blocks (thinking_delta, signature_delta), text to text blocks, and each tool
// call to its own tool_use block (input {} at the start, then input_json_delta fragments whose
// concatenation is the arguments; a call that never got arguments is closed with "{}").
//
// Interleaved tool arguments. OpenAI-compatible upstreams could in theory interleave argument
// fragments of parallel calls (call 0 starts, call 1 starts, more of call 0 …). Anthropic
// clients such as Claude Code finalize a tool_use block at its content_block_stop, so a block
// must not be closed before its arguments are complete, and cannot be reopened. The encoder
// therefore keeps a tool_use block open until its arguments form complete JSON; events for
// other blocks that arrive meanwhile are held, in order, and written as soon as it is complete
// (or at Finish). Upstreams that send calls one after the other, as all known ones do, are never
// held. A fragment for a call whose block is already closed is dropped.
//
// Usage and finish events only record: the stop reason and usage go out in Finish, because
// OpenAI backends send usage after the finish event. Events of a choice other than 0 are
// ignored (the Messages API has one). A StreamEncoder is used by one goroutine.
type StreamEncoder struct {
	id, model string
	started   bool
	finished  bool

	next     int    // index of the next content block
	open     uint8  // kind of the open block: blockNone, blockText, blockThinking, blockTool
	openTool int    // ToolIndex of the open tool_use block
	args     []byte // arguments written so far for the open tool_use block
	tools    []uint8
	sawTool  bool

	held     []providers.StreamEvent
	flushing bool

	usage  providers.Usage
	finish string
}

// NewStreamEncoder starts an encoder for one answer. id becomes the message id (a "msg_" prefix
// is added when missing); when empty, the id of the EventStart is used, or a random one. model
// is the model the caller sees; when empty, the EventStart's model is used.
func NewStreamEncoder(id, model string) *StreamEncoder {
	e := &StreamEncoder{model: model}
	if id != "" {
		e.id = messageID(id)
	}
	return e
}

// Encode appends the Anthropic events for ev to dst (possibly none) and returns the extended
// slice. Nothing is appended after Finish.
func (e *StreamEncoder) Encode(dst []byte, ev providers.StreamEvent) []byte {
	if e.finished {
		return dst
	}
	switch ev.Kind {
	case providers.EventStart:
		if ev.Usage != nil {
			e.usage = *ev.Usage
		}
		return e.start(dst, ev.ID, ev.Model)
	case providers.EventUsage:
		if ev.Usage != nil {
			e.usage = *ev.Usage
		}
		return dst
	case providers.EventFinish:
		if ev.Choice == 0 && ev.FinishReason != "" {
			e.finish = ev.FinishReason
		}
		return dst
	}
	if ev.Choice != 0 {
		return dst
	}
	dst = e.start(dst, "", "")
	if e.argsForOpen(ev) || (len(e.held) == 0 && !e.holds(ev)) {
		dst = e.step(dst, ev)
		return e.drain(dst)
	}
	e.held = append(e.held, ev)
	return dst
}

// Finish appends the end of the stream: whatever was held, the close of the open block,
// message_delta (stop reason, usage) and message_stop. Call it once the source stream ended
// without error (on an error, send EncodeStreamError instead). Later calls append nothing.
func (e *StreamEncoder) Finish(dst []byte) []byte {
	if e.finished {
		return dst
	}
	dst = e.start(dst, "", "")
	e.flushing = true
	dst = e.drain(dst)
	dst = e.closeBlock(dst)
	dst = appendEventHead(dst, "message_delta")
	dst = append(dst, `{"type":"message_delta","delta":{"stop_reason":`...)
	dst = appendString(dst, stopReason(e.finish, e.sawTool))
	dst = append(dst, `,"stop_sequence":null},"usage":`...)
	dst = appendUsage(dst, e.usage)
	dst = append(dst, "}\n\n"...)
	dst = append(dst, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"...)
	e.finished = true
	return dst
}

func appendEventHead(dst []byte, name string) []byte {
	dst = append(dst, "event: "...)
	dst = append(dst, name...)
	return append(dst, "\ndata: "...)
}

// start writes message_start and ping once.
func (e *StreamEncoder) start(dst []byte, id, model string) []byte {
	if e.started {
		return dst
	}
	e.started = true
	if e.id == "" {
		e.id = messageID(id)
	}
	if e.model == "" {
		e.model = model
	}
	dst = appendEventHead(dst, "message_start")
	dst = append(dst, `{"type":"message_start","message":{"id":`...)
	dst = appendString(dst, e.id)
	dst = append(dst, `,"type":"message","role":"assistant","model":`...)
	dst = appendString(dst, e.model)
	dst = append(dst, `,"content":[],"stop_reason":null,"stop_sequence":null,"usage":`...)
	dst = appendUsage(dst, e.usage)
	dst = append(dst, "}}\n\n"...)
	return append(dst, "event: ping\ndata: {\"type\":\"ping\"}\n\n"...)
}

// toolState is the state slot of tool call i; nil when i is out of range.
func (e *StreamEncoder) toolState(i int) *uint8 {
	if i < 0 || i >= maxBlockIndex {
		return nil
	}
	if i >= len(e.tools) {
		e.tools = append(e.tools, make([]uint8, i+1-len(e.tools))...)
	}
	return &e.tools[i]
}

func (e *StreamEncoder) stateOf(i int) uint8 {
	if i < 0 || i >= len(e.tools) {
		return toolUnseen
	}
	return e.tools[i]
}

// argsForOpen reports whether ev continues the open tool_use block.
func (e *StreamEncoder) argsForOpen(ev providers.StreamEvent) bool {
	if e.open != blockTool || ev.ToolIndex != e.openTool {
		return false
	}
	return ev.Kind == providers.EventToolArgs || ev.Kind == providers.EventToolCall
}

// holds reports whether ev must wait: it opens another block while the open tool_use block's
// arguments are not complete JSON yet.
func (e *StreamEncoder) holds(ev providers.StreamEvent) bool {
	if e.flushing || e.open != blockTool || e.argsForOpen(ev) {
		return false
	}
	switch ev.Kind {
	case providers.EventText:
		if ev.Text == "" {
			return false
		}
	case providers.EventReasoning:
		if ev.Text == "" && ev.Signature == "" {
			return false
		}
	case providers.EventToolCall, providers.EventToolArgs:
		if e.stateOf(ev.ToolIndex) == toolClosed {
			return false
		}
	default:
		return false
	}
	return !json.Valid(e.args)
}

// drain writes held events that no longer need to wait. Fragments of the open tool_use block
// go out wherever they wait, the others strictly in order.
func (e *StreamEncoder) drain(dst []byte) []byte {
	for len(e.held) > 0 {
		if e.open == blockTool {
			kept := e.held[:0]
			for _, ev := range e.held {
				if e.argsForOpen(ev) {
					dst = e.step(dst, ev)
				} else {
					kept = append(kept, ev)
				}
			}
			clear(e.held[len(kept):])
			e.held = kept
			if len(e.held) == 0 {
				break
			}
		}
		ev := e.held[0]
		if e.holds(ev) {
			break
		}
		copy(e.held, e.held[1:])
		e.held[len(e.held)-1] = providers.StreamEvent{}
		e.held = e.held[:len(e.held)-1]
		dst = e.step(dst, ev)
	}
	return dst
}

// step writes one content event.
func (e *StreamEncoder) step(dst []byte, ev providers.StreamEvent) []byte {
	switch ev.Kind {
	case providers.EventText:
		if ev.Text == "" {
			return dst
		}
		if e.open != blockText {
			dst = e.closeBlock(dst)
			dst = e.openBlock(dst, blockText, `{"type":"text","text":""}`)
		}
		dst = e.delta(dst, `{"type":"text_delta","text":`, ev.Text)
	case providers.EventReasoning:
		if ev.Text == "" && ev.Signature == "" {
			return dst
		}
		if e.open != blockThinking {
			dst = e.closeBlock(dst)
			dst = e.openBlock(dst, blockThinking, `{"type":"thinking","thinking":"","signature":""}`)
		}
		if ev.Text != "" {
			dst = e.delta(dst, `{"type":"thinking_delta","thinking":`, ev.Text)
		}
		if ev.Signature != "" {
			dst = e.delta(dst, `{"type":"signature_delta","signature":`, ev.Signature)
		}
	case providers.EventToolCall:
		st := e.toolState(ev.ToolIndex)
		if st == nil {
			return dst
		}
		if *st != toolUnseen {
			// A repeated start of a call already seen: its Args, if any, continue it.
			if e.argsForOpen(ev) && ev.Args != "" {
				dst = e.toolArgs(dst, ev.Args)
			}
			return dst
		}
		dst = e.closeBlock(dst)
		*st = toolOpen
		e.sawTool = true
		id := toolID(ev.ToolID)
		if id == "" {
			id = toolUseID(e.id, ev.ToolIndex)
		}
		dst = appendEventHead(dst, "content_block_start")
		dst = append(dst, `{"type":"content_block_start","index":`...)
		dst = appendInt(dst, e.next)
		dst = append(dst, `,"content_block":{"type":"tool_use","id":`...)
		dst = appendString(dst, id)
		dst = append(dst, `,"name":`...)
		dst = appendString(dst, ev.ToolName)
		dst = append(dst, `,"input":{}}}`+"\n\n"...)
		e.open, e.openTool, e.next = blockTool, ev.ToolIndex, e.next+1
		e.args = e.args[:0]
		if ev.Args != "" {
			dst = e.toolArgs(dst, ev.Args)
		}
	case providers.EventToolArgs:
		if e.argsForOpen(ev) && ev.Args != "" {
			dst = e.toolArgs(dst, ev.Args)
		}
	}
	return dst
}

func (e *StreamEncoder) toolArgs(dst []byte, args string) []byte {
	e.args = append(e.args, args...)
	return e.delta(dst, `{"type":"input_json_delta","partial_json":`, args)
}

// openBlock writes content_block_start for block (a JSON object) at the next index.
func (e *StreamEncoder) openBlock(dst []byte, kind uint8, block string) []byte {
	dst = appendEventHead(dst, "content_block_start")
	dst = append(dst, `{"type":"content_block_start","index":`...)
	dst = appendInt(dst, e.next)
	dst = append(dst, `,"content_block":`...)
	dst = append(dst, block...)
	dst = append(dst, "}\n\n"...)
	e.open, e.next = kind, e.next+1
	return dst
}

// delta writes a content_block_delta for the open block; head is the delta object up to the
// value of its one string field.
func (e *StreamEncoder) delta(dst []byte, head, value string) []byte {
	dst = appendEventHead(dst, "content_block_delta")
	dst = append(dst, `{"type":"content_block_delta","index":`...)
	dst = appendInt(dst, e.next-1)
	dst = append(dst, `,"delta":`...)
	dst = append(dst, head...)
	dst = appendString(dst, value)
	return append(dst, "}}\n\n"...)
}

// closeBlock writes content_block_stop for the open block, if any.
func (e *StreamEncoder) closeBlock(dst []byte) []byte {
	if e.open == blockNone {
		return dst
	}
	if e.open == blockTool {
		if len(e.args) == 0 {
			dst = e.toolArgs(dst, "{}")
		}
		e.tools[e.openTool] = toolClosed
	}
	dst = appendEventHead(dst, "content_block_stop")
	dst = append(dst, `{"type":"content_block_stop","index":`...)
	dst = appendInt(dst, e.next-1)
	dst = append(dst, "}\n\n"...)
	e.open = blockNone
	return dst
}
