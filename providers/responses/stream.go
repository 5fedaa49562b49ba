package responses

import (
	"encoding/json"
	"time"

	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/openai"
)

// streamWriter writes a canonical stream as the Responses event sequence: response.created and
// response.in_progress first; then each output item in turn (output_item.added, its content
// part or summary part, its deltas, the *.done events, output_item.done), one at a time, in
// the order the model produced them; then response.completed (or response.incomplete), whose
// response holds every item and the usage. A failure ends the stream with an error event and
// response.failed. Every event has the next sequence_number; output_index counts items.
type streamWriter struct {
	d       *Door
	model   string
	seq     int
	started bool
	ended   bool
	// forwarded is set once an upstream frame was relayed: the upstream wrote the whole
	// sequence, terminal event included.
	forwarded bool

	outs []*output
	cur  *output
	// calls maps the canonical tool index to its item.
	calls    map[int]*output
	finish   string
	usage    providers.Usage
	hasUsage bool
}

type evBase struct {
	Type string `json:"type"`
	Seq  int    `json:"sequence_number"`
}

type evResponse struct {
	evBase
	Response *Object `json:"response"`
}

type evItem struct {
	evBase
	OutputIndex int `json:"output_index"`
	Item        any `json:"item"`
}

type evContentPart struct {
	evBase
	ItemID       string `json:"item_id"`
	OutputIndex  int    `json:"output_index"`
	ContentIndex int    `json:"content_index"`
	Part         any    `json:"part"`
}

type evTextDelta struct {
	evBase
	ItemID       string `json:"item_id"`
	OutputIndex  int    `json:"output_index"`
	ContentIndex int    `json:"content_index"`
	Delta        string `json:"delta"`
	Logprobs     []any  `json:"logprobs"`
}

type evTextDone struct {
	evBase
	ItemID       string `json:"item_id"`
	OutputIndex  int    `json:"output_index"`
	ContentIndex int    `json:"content_index"`
	Text         string `json:"text"`
	Logprobs     []any  `json:"logprobs"`
}

type evSummaryPart struct {
	evBase
	ItemID       string      `json:"item_id"`
	OutputIndex  int         `json:"output_index"`
	SummaryIndex int         `json:"summary_index"`
	Part         summaryText `json:"part"`
}

type evSummaryDelta struct {
	evBase
	ItemID       string `json:"item_id"`
	OutputIndex  int    `json:"output_index"`
	SummaryIndex int    `json:"summary_index"`
	Delta        string `json:"delta"`
}

type evSummaryDone struct {
	evBase
	ItemID       string `json:"item_id"`
	OutputIndex  int    `json:"output_index"`
	SummaryIndex int    `json:"summary_index"`
	Text         string `json:"text"`
}

type evArgsDelta struct {
	evBase
	ItemID      string `json:"item_id"`
	OutputIndex int    `json:"output_index"`
	Delta       string `json:"delta"`
}

type evArgsDone struct {
	evBase
	ItemID      string `json:"item_id"`
	OutputIndex int    `json:"output_index"`
	Name        string `json:"name"`
	Arguments   string `json:"arguments"`
}

type evCustomDone struct {
	evBase
	ItemID      string `json:"item_id"`
	OutputIndex int    `json:"output_index"`
	Input       string `json:"input"`
}

type evError struct {
	evBase
	Error errorBody `json:"error"`
}

type errorBody struct {
	Type    string  `json:"type"`
	Code    *string `json:"code"`
	Message string  `json:"message"`
	Param   *string `json:"param"`
}

// base is the next event's type and sequence number.
func (w *streamWriter) base(typ string) evBase {
	b := evBase{Type: typ, Seq: w.seq}
	w.seq++
	return b
}

// emit appends one event: `event: <type>` and its data.
func emit(dst []byte, typ string, v any) []byte {
	dst = append(dst, "event: "...)
	dst = append(dst, typ...)
	dst = append(dst, "\ndata: "...)
	dst = append(dst, marshal(v)...)
	return append(dst, '\n', '\n')
}

func (w *streamWriter) start(dst []byte) []byte {
	if w.started {
		return dst
	}
	w.started = true
	o := w.d.object("in_progress", w.model)
	dst = emit(dst, "response.created", evResponse{w.base("response.created"), o})
	return emit(dst, "response.in_progress", evResponse{w.base("response.in_progress"), o})
}

func (w *streamWriter) index(o *output) int {
	for i, x := range w.outs {
		if x == o {
			return i
		}
	}
	return -1
}

// open closes the current item and opens o as the next one.
func (w *streamWriter) open(dst []byte, o *output) []byte {
	dst = w.closeCurrent(dst)
	w.outs = append(w.outs, o)
	w.cur = o
	i := len(w.outs) - 1
	dst = emit(dst, "response.output_item.added", evItem{w.base("response.output_item.added"), i, o.item(false)})
	switch o.kind {
	case "message":
		dst = emit(dst, "response.content_part.added", evContentPart{w.base("response.content_part.added"), o.id, i, 0, textPart("")})
	case "reasoning":
		dst = emit(dst, "response.reasoning_summary_part.added", evSummaryPart{w.base("response.reasoning_summary_part.added"), o.id, i, 0, summaryText{Type: "summary_text"}})
	}
	return dst
}

// closeCurrent writes the *.done events of the open item.
func (w *streamWriter) closeCurrent(dst []byte) []byte {
	o := w.cur
	if o == nil || o.done {
		return dst
	}
	o.done = true
	w.cur = nil
	i := w.index(o)
	text := o.text.String()
	switch o.kind {
	case "message":
		dst = emit(dst, "response.output_text.done", evTextDone{w.base("response.output_text.done"), o.id, i, 0, text, []any{}})
		dst = emit(dst, "response.content_part.done", evContentPart{w.base("response.content_part.done"), o.id, i, 0, textPart(text)})
	case "reasoning":
		dst = emit(dst, "response.reasoning_summary_text.done", evSummaryDone{w.base("response.reasoning_summary_text.done"), o.id, i, 0, text})
		dst = emit(dst, "response.reasoning_summary_part.done", evSummaryPart{w.base("response.reasoning_summary_part.done"), o.id, i, 0, summaryText{Type: "summary_text", Text: text}})
	case "function_call":
		dst = emit(dst, "response.function_call_arguments.done", evArgsDone{w.base("response.function_call_arguments.done"), o.id, i, o.name, arguments(text)})
	case "custom_tool_call":
		// The backend streamed a JSON object around the input: the input is sent whole.
		in := customInput(text)
		dst = emit(dst, "response.custom_tool_call_input.delta", evArgsDelta{w.base("response.custom_tool_call_input.delta"), o.id, i, in})
		dst = emit(dst, "response.custom_tool_call_input.done", evCustomDone{w.base("response.custom_tool_call_input.done"), o.id, i, in})
	}
	return emit(dst, "response.output_item.done", evItem{w.base("response.output_item.done"), i, o.item(true)})
}

// Encode writes the events for one canonical event. Only the first choice is an answer: the
// Responses API has no n.
func (w *streamWriter) Encode(dst []byte, ev providers.StreamEvent) []byte {
	if w.ended || ev.Choice != 0 {
		return dst
	}
	dst = w.start(dst)
	switch ev.Kind {
	case providers.EventText:
		if ev.Text == "" {
			return dst
		}
		if w.cur == nil || w.cur.kind != "message" {
			dst = w.open(dst, &output{kind: "message", id: w.d.itemID("msg_")})
		}
		i := len(w.outs) - 1
		w.cur.text.WriteString(ev.Text)
		dst = emit(dst, "response.output_text.delta", evTextDelta{w.base("response.output_text.delta"), w.cur.id, i, 0, ev.Text, []any{}})
	case providers.EventReasoning:
		if ev.Text == "" && ev.Signature == "" {
			return dst
		}
		if w.cur == nil || w.cur.kind != "reasoning" {
			dst = w.open(dst, &output{kind: "reasoning", id: w.d.itemID("rs_")})
		}
		w.cur.sig += ev.Signature
		if ev.Text != "" {
			w.cur.text.WriteString(ev.Text)
			dst = emit(dst, "response.reasoning_summary_text.delta", evSummaryDelta{w.base("response.reasoning_summary_text.delta"), w.cur.id, len(w.outs) - 1, 0, ev.Text})
		}
	case providers.EventToolCall, providers.EventToolArgs:
		// Arguments of a call never started still open one: nothing the model said is lost.
		if o := w.calls[ev.ToolIndex]; o == nil {
			o = w.d.callOutput(ev.ToolID, ev.ToolName, "")
			if w.calls == nil {
				w.calls = map[int]*output{}
			}
			w.calls[ev.ToolIndex] = o
			dst = w.open(dst, o)
		}
		dst = w.args(dst, ev)
	case providers.EventFinish:
		w.finish = ev.FinishReason
		dst = w.closeCurrent(dst)
	case providers.EventUsage:
		if ev.Usage != nil {
			w.usage, w.hasUsage = *ev.Usage, true
		}
	}
	return dst
}

// args adds an arguments fragment to its call. Fragments of a call already closed (a backend
// that interleaves calls) still count in the final item.
func (w *streamWriter) args(dst []byte, ev providers.StreamEvent) []byte {
	o := w.calls[ev.ToolIndex]
	if o == nil || ev.Args == "" {
		return dst
	}
	o.text.WriteString(ev.Args)
	if o.done || o.kind != "function_call" {
		return dst
	}
	return emit(dst, "response.function_call_arguments.delta", evArgsDelta{w.base("response.function_call_arguments.delta"), o.id, w.index(o), ev.Args})
}

// final is the Response object with every item and the usage.
func (w *streamWriter) final(status string) *Object {
	o := w.d.object(status, w.model)
	for _, x := range w.outs {
		o.Output = append(o.Output, marshal(x.item(true)))
	}
	if w.hasUsage {
		o.Usage = usageOf(w.usage)
	}
	return o
}

// Finish closes the open item and ends the stream with response.completed (or
// response.incomplete when the answer was cut by the output cap or a content filter).
func (w *streamWriter) Finish(dst []byte) []byte {
	if w.ended || w.forwarded {
		return dst
	}
	dst = w.start(dst)
	dst = w.closeCurrent(dst)
	w.ended = true
	o := w.final("completed")
	o.finish(w.finish, time.Now().Unix())
	if o.Usage == nil {
		o.Usage = usageOf(providers.Usage{})
	}
	w.d.done(o)
	typ := "response.completed"
	if o.Status == "incomplete" {
		typ = "response.incomplete"
	}
	return emit(dst, typ, evResponse{w.base(typ), o})
}

// Error ends the stream with an error event (OpenAI's nested shape) and response.failed.
func (w *streamWriter) Error(dst []byte, e *providers.Error) []byte {
	if w.ended {
		return dst
	}
	dst = w.start(dst)
	w.ended = true
	var body struct {
		Error errorBody `json:"error"`
	}
	_ = json.Unmarshal(openai.EncodeError(e), &body)
	dst = emit(dst, "error", evError{w.base("error"), body.Error})
	o := w.final("failed")
	if w.forwarded {
		o.ID = w.d.ownedID
	}
	code := "server_error"
	if body.Error.Code != nil {
		code = *body.Error.Code
	} else if e.Status() == 429 {
		code = "rate_limit_exceeded"
	}
	o.Error = &objectError{Code: code, Message: body.Error.Message}
	return emit(dst, "response.failed", evResponse{w.base("response.failed"), o})
}

// Frame relays a Responses event as the upstream sent it (a backend that serves the Responses
// API itself). The response id of response.created goes to the door's Owned, and the sequence
// numbers are followed so that an error after the last frame continues them.
func (w *streamWriter) Frame(dst []byte, f providers.Frame) []byte {
	w.started, w.forwarded = true, true
	var head struct {
		Seq      *int `json:"sequence_number"`
		Response *struct {
			ID string `json:"id"`
		} `json:"response"`
	}
	_ = json.Unmarshal(f.Data, &head)
	if head.Seq != nil && *head.Seq >= w.seq {
		w.seq = *head.Seq + 1
	}
	if f.Event == "response.created" && head.Response != nil && head.Response.ID != "" {
		w.d.owned(head.Response.ID)
	}
	if f.Event != "" {
		dst = append(dst, "event: "...)
		dst = append(dst, f.Event...)
		dst = append(dst, '\n')
	}
	dst = append(dst, "data: "...)
	dst = append(dst, f.Data...)
	return append(dst, '\n', '\n')
}
