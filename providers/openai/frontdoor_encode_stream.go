package openai

import (
	"slices"
	"strconv"

	"github.com/aigateway/ai-gateway/providers"
)

// StreamEncoder renders canonical stream events as OpenAI chat.completion.chunk server-sent
// events. It accepts events from any backend's translator and tolerates their orderings: content
// before EventStart, usage before the finish, several usage events (the last one wins and is sent
// once, at the end), a repeated finish, tool-argument fragments for a call never started.
//
// Per choice it writes the role chunk first, then content / reasoning_content / tool_calls
// deltas (index, id, type and name on a call's first fragment, argument fragments after), then
// the finish_reason chunk. Done adds a finish for any choice that has none, the usage chunk
// (choices: []) when includeUsage was asked and usage is known, and data: [DONE].
type StreamEncoder struct {
	id, model    string
	created      int64
	includeUsage bool

	prefix   []byte // `data: {"id":…,"model":…,"choices":[{"index":` built once
	choices  []choiceState
	usage    providers.Usage
	hasUsage bool
	done     bool
}

type choiceState struct {
	index    int
	started  bool // role chunk written
	finished bool
	sawTools bool
	tools    []int // tool indices whose first fragment was written
}

// NewStreamEncoder starts an encoder. id, model and created fill every chunk; an empty id or
// model is taken from the stream's EventStart.
func NewStreamEncoder(id, model string, created int64, includeUsage bool) *StreamEncoder {
	return &StreamEncoder{id: id, model: model, created: created, includeUsage: includeUsage}
}

// choice returns the state of choice i. Choices are few; a list avoids sizing anything by an
// index a translator passed through from an upstream.
func (e *StreamEncoder) choice(i int) *choiceState {
	for k := range e.choices {
		if e.choices[k].index == i {
			return &e.choices[k]
		}
	}
	e.choices = append(e.choices, choiceState{index: i})
	return &e.choices[len(e.choices)-1]
}

func (e *StreamEncoder) header(dst []byte) []byte {
	if e.prefix == nil {
		p := make([]byte, 0, 96+len(e.id)+len(e.model))
		p = append(p, `data: {"id":`...)
		p = appendString(p, e.id)
		p = append(p, `,"object":"chat.completion.chunk","created":`...)
		p = strconv.AppendInt(p, e.created, 10)
		p = append(p, `,"model":`...)
		p = appendString(p, e.model)
		p = append(p, `,"choices":[`...)
		e.prefix = p
	}
	return append(dst, e.prefix...)
}

// open writes a chunk up to the opening of its delta object.
func (e *StreamEncoder) open(dst []byte, choice int) []byte {
	dst = e.header(dst)
	dst = append(dst, `{"index":`...)
	dst = strconv.AppendInt(dst, int64(choice), 10)
	return append(dst, `,"delta":{`...)
}

// closeChunk ends a chunk opened with open.
func closeChunk(dst []byte, finish string) []byte {
	dst = append(dst, `},"logprobs":null,"finish_reason":`...)
	dst = appendNullableString(dst, finish)
	return append(dst, "}]}\n\n"...)
}

// role writes the role chunk of choice c once.
func (e *StreamEncoder) role(dst []byte, c int) []byte {
	cs := e.choice(c)
	if cs.started {
		return dst
	}
	cs.started = true
	dst = e.open(dst, c)
	dst = append(dst, `"role":"assistant","content":""`...)
	return closeChunk(dst, "")
}

// Encode appends the chunks for ev to dst (zero or more `data: {...}\n\n` events) and returns it.
func (e *StreamEncoder) Encode(dst []byte, ev providers.StreamEvent) []byte {
	if e.done {
		return dst
	}
	c := max(ev.Choice, 0)
	switch ev.Kind {
	case providers.EventStart:
		if e.prefix == nil {
			if e.id == "" {
				e.id = ev.ID
			}
			if e.model == "" {
				e.model = ev.Model
			}
		}
		return e.role(dst, c)
	case providers.EventText, providers.EventReasoning:
		if ev.Text == "" {
			return dst
		}
		dst = e.role(dst, c)
		dst = e.open(dst, c)
		if ev.Kind == providers.EventText {
			dst = append(dst, `"content":`...)
		} else {
			dst = append(dst, `"reasoning_content":`...)
		}
		dst = appendString(dst, ev.Text)
		return closeChunk(dst, "")
	case providers.EventToolCall, providers.EventToolArgs:
		dst = e.role(dst, c)
		cs := e.choice(c)
		cs.sawTools = true
		ti := max(ev.ToolIndex, 0)
		first := ev.Kind == providers.EventToolCall && !slices.Contains(cs.tools, ti)
		if !first && ev.Args == "" {
			return dst
		}
		dst = e.open(dst, c)
		dst = append(dst, `"tool_calls":[{"index":`...)
		dst = strconv.AppendInt(dst, int64(ti), 10)
		if first {
			cs.tools = append(cs.tools, ti)
			id := ev.ToolID
			if id == "" {
				id = generatedToolCallID(e.id, c, ti)
			}
			dst = append(dst, `,"id":`...)
			dst = appendString(dst, id)
			dst = append(dst, `,"type":"function","function":{"name":`...)
			dst = appendString(dst, ev.ToolName)
			dst = append(dst, `,"arguments":`...)
		} else {
			dst = append(dst, `,"function":{"arguments":`...)
		}
		dst = appendString(dst, ev.Args)
		dst = append(dst, "}}]"...)
		return closeChunk(dst, "")
	case providers.EventFinish:
		return e.finish(dst, c, ev.FinishReason)
	case providers.EventUsage:
		if ev.Usage != nil {
			e.usage = *ev.Usage
			e.hasUsage = true
		}
	}
	return dst
}

func (e *StreamEncoder) finish(dst []byte, c int, reason string) []byte {
	dst = e.role(dst, c)
	cs := e.choice(c)
	if cs.finished {
		return dst
	}
	cs.finished = true
	reason = normalizeFinish(reason)
	if cs.sawTools && (reason == "" || reason == providers.FinishStop) {
		reason = providers.FinishToolCalls
	}
	if reason == "" {
		reason = providers.FinishStop
	}
	dst = e.open(dst, c)
	return closeChunk(dst, reason)
}

// Done appends the end of the stream: a finish chunk for each choice still open, the usage chunk
// when includeUsage was asked and usage was seen, then `data: [DONE]\n\n`. Calling it again
// appends nothing.
func (e *StreamEncoder) Done(dst []byte) []byte {
	if e.done {
		return dst
	}
	if len(e.choices) == 0 {
		dst = e.role(dst, 0)
	}
	slices.SortFunc(e.choices, func(a, b choiceState) int { return a.index - b.index })
	for i := range e.choices {
		if cs := e.choices[i]; cs.started && !cs.finished {
			dst = e.finish(dst, cs.index, "")
		}
	}
	if e.includeUsage && e.hasUsage {
		dst = e.header(dst)
		dst = append(dst, `],"usage":`...)
		dst = appendUsage(dst, e.usage)
		dst = append(dst, "}\n\n"...)
	}
	e.done = true
	return append(dst, "data: [DONE]\n\n"...)
}
