package gemini

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/aigateway/ai-gateway/providers"
)

// StreamEncoder renders canonical stream events as a streamGenerateContent answer for the Gemini
// front door: each chunk is a whole GenerateContentResponse with incremental parts, framed as SSE
// (`data: {...}\r\n\r\n`, for ?alt=sse) or as the elements of one JSON array (`[{...},\r\n{...}]`,
// without alt=sse).
//
// Gemini clients expect each functionCall part whole, with args as an object, but OpenAI- and
// Anthropic-shaped sources send a call's arguments as string fragments. The encoder buffers each
// call and emits it once it is complete: when a later event (text, reasoning, the next call) arrives
// and its arguments parse, or at the finish. The finishReason and usageMetadata go on the last
// chunk, written by Finish. A StreamEncoder serves one stream and is not safe for concurrent use.
type StreamEncoder struct {
	sse     bool
	model   string
	id      string
	trailer []byte // `,"modelVersion":…,"responseId":…}` closing every chunk
	chunks  int
	closed  bool

	calls    []bufferedCall
	finishes []choiceFinish
	usage    *providers.Usage
}

type bufferedCall struct {
	choice, index int
	id, name, sig string
	args          []byte
}

type choiceFinish struct {
	choice int
	reason string
}

// NewStreamEncoder starts an encoder for model (reported as modelVersion until an EventStart
// names the model that answers); sse selects SSE framing over a JSON array.
func NewStreamEncoder(model string, sse bool) *StreamEncoder {
	e := &StreamEncoder{sse: sse, model: modelName(model)}
	e.setTrailer()
	return e
}

func (e *StreamEncoder) setTrailer() {
	t := e.trailer[:0]
	if e.model != "" {
		t = append(t, `,"modelVersion":`...)
		t = appendJSONString(t, e.model)
	}
	if e.id != "" {
		t = append(t, `,"responseId":`...)
		t = appendJSONString(t, e.id)
	}
	e.trailer = append(t, '}')
}

// Encode appends the bytes for ev to dst (possibly none: tool calls are buffered, finish and
// usage wait for Finish) and returns the extended slice.
func (e *StreamEncoder) Encode(dst []byte, ev providers.StreamEvent) []byte {
	if e.closed {
		return dst
	}
	switch ev.Kind {
	case providers.EventStart:
		if ev.Model != "" {
			e.model = modelName(ev.Model)
		}
		e.id = ev.ID
		e.setTrailer()
	case providers.EventText, providers.EventReasoning:
		if ev.Text == "" {
			return dst
		}
		dst = e.flushCalls(dst, false)
		dst = e.open(dst)
		dst = append(dst, `{"candidates":[{"content":{"role":"model","parts":[{"text":`...)
		dst = appendJSONString(dst, ev.Text)
		if ev.Kind == providers.EventReasoning {
			dst = append(dst, `,"thought":true`...)
		}
		dst = append(dst, `}]},"index":`...)
		dst = strconv.AppendInt(dst, int64(ev.Choice), 10)
		dst = append(dst, '}', ']')
		dst = append(dst, e.trailer...)
		dst = e.close(dst)
	case providers.EventToolCall:
		dst = e.flushCalls(dst, false)
		e.calls = append(e.calls, bufferedCall{choice: ev.Choice, index: ev.ToolIndex, id: ev.ToolID,
			name: ev.ToolName, sig: ev.Signature, args: append([]byte(nil), ev.Args...)})
	case providers.EventToolArgs:
		for i := len(e.calls) - 1; i >= 0; i-- {
			if e.calls[i].index == ev.ToolIndex && e.calls[i].choice == ev.Choice {
				e.calls[i].args = append(e.calls[i].args, ev.Args...)
				break
			}
		}
	case providers.EventFinish:
		dst = e.flushCalls(dst, true)
		for i := range e.finishes {
			if e.finishes[i].choice == ev.Choice {
				e.finishes[i].reason = ev.FinishReason
				return dst
			}
		}
		e.finishes = append(e.finishes, choiceFinish{choice: ev.Choice, reason: ev.FinishReason})
	case providers.EventUsage:
		if ev.Usage != nil {
			u := *ev.Usage
			e.usage = &u
		}
	}
	return dst
}

// Finish appends the last chunk (any buffered tool calls, then finishReason and usageMetadata)
// and, in JSON-array mode, the closing bracket. Later calls append nothing.
func (e *StreamEncoder) Finish(dst []byte) []byte {
	if e.closed {
		return dst
	}
	dst = e.flushCalls(dst, true)
	finishes := e.finishes
	if len(finishes) == 0 {
		finishes = []choiceFinish{{reason: providers.FinishStop}}
	}
	slices.SortStableFunc(finishes, func(a, b choiceFinish) int { return a.choice - b.choice })
	dst = e.open(dst)
	dst = append(dst, `{"candidates":[`...)
	for i, f := range finishes {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"content":{"role":"model","parts":[{"text":""}]},"finishReason":"`...)
		dst = append(dst, finishReasonOut(f.reason)...)
		dst = append(dst, `","index":`...)
		dst = strconv.AppendInt(dst, int64(f.choice), 10)
		dst = append(dst, '}')
	}
	dst = append(dst, ']')
	if e.usage != nil {
		dst = append(dst, `,"usageMetadata":`...)
		dst = append(dst, marshal(usageMetadata(e.usage))...)
	}
	dst = append(dst, e.trailer...)
	dst = e.close(dst)
	if !e.sse {
		dst = append(dst, ']')
	}
	e.closed = true
	return dst
}

// EncodeError appends an error after the stream has started, in the stream's framing
// (`data: {"error":…}` in SSE mode; the last array element, then `]`, in JSON-array mode), and
// closes the encoder: the caller should end the response after writing it.
func (e *StreamEncoder) EncodeError(dst []byte, err *providers.Error) []byte {
	if e.closed {
		return dst
	}
	dst = e.open(dst)
	dst = appendError(dst, err)
	dst = e.close(dst)
	if !e.sse {
		dst = append(dst, ']')
	}
	e.closed = true
	return dst
}

func (e *StreamEncoder) open(dst []byte) []byte {
	e.chunks++
	switch {
	case e.sse:
		return append(dst, "data: "...)
	case e.chunks == 1:
		return append(dst, '[')
	default:
		return append(dst, ',', '\r', '\n')
	}
}

func (e *StreamEncoder) close(dst []byte) []byte {
	if e.sse {
		return append(dst, "\r\n\r\n"...)
	}
	return dst
}

// flushCalls emits buffered tool calls, in order, as functionCall parts: all of them when final,
// else those at the front whose arguments already form a complete JSON value. Calls of one choice
// that are emitted together share a chunk, as Gemini sends parallel calls.
func (e *StreamEncoder) flushCalls(dst []byte, final bool) []byte {
	n := 0
	for n < len(e.calls) && (final || json.Valid(e.calls[n].args)) {
		n++
	}
	for start := 0; start < n; {
		end := start + 1
		for end < n && e.calls[end].choice == e.calls[start].choice {
			end++
		}
		dst = e.open(dst)
		dst = append(dst, `{"candidates":[{"content":{"role":"model","parts":[`...)
		for i := start; i < end; i++ {
			c := &e.calls[i]
			if i > start {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"functionCall":{`...)
			if c.id != "" {
				dst = append(dst, `"id":`...)
				dst = appendJSONString(dst, c.id)
				dst = append(dst, ',')
			}
			dst = append(dst, `"name":`...)
			dst = appendJSONString(dst, c.name)
			dst = append(dst, `,"args":`...)
			if isJSONObject(c.args) {
				dst = append(dst, compactJSON(c.args)...)
			} else {
				dst = append(dst, '{', '}')
			}
			dst = append(dst, '}')
			if sig := signatureOut(c.sig); sig != "" {
				dst = append(dst, `,"thoughtSignature":`...)
				dst = appendJSONString(dst, sig)
			}
			dst = append(dst, '}')
		}
		dst = append(dst, `]},"index":`...)
		dst = strconv.AppendInt(dst, int64(e.calls[start].choice), 10)
		dst = append(dst, '}', ']')
		dst = append(dst, e.trailer...)
		dst = e.close(dst)
		start = end
	}
	e.calls = append(e.calls[:0], e.calls[n:]...)
	return dst
}
