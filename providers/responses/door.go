package responses

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/aigateway/ai-gateway/providers"
)

// Protocol is the Responses API's wire protocol. No backend forwards it through the generic
// Forwarder path, so every backend is translated through the canonical model.
const Protocol = providers.ProtocolResponses

// Door is the Responses front door's protocol on the way out (providers.Door), for one
// request: it mints the response id and echoes the request's settings in the answer.
type Door struct {
	req     *Request
	id      string
	base    string
	created int64
	items   int
	// Done, when set, is called once with the final Response object of an answer that
	// completed (or ended incomplete): the state a continuation reads back.
	Done func(*Object)
	// Owned, when set, is called once with the id of a streamed response a backend that serves
	// the Responses API itself created: the client owns it.
	Owned   func(id string)
	ownedID string
}

var _ providers.Door = (*Door)(nil)

// NewDoor starts the answer to r with a fresh response id.
func NewDoor(r *Request) *Door {
	var b [16]byte
	_, _ = rand.Read(b[:])
	base := hex.EncodeToString(b[:])
	return &Door{req: r, id: "resp_" + base, base: base, created: time.Now().Unix()}
}

// ID is the response id.
func (d *Door) ID() string { return d.id }

// itemID mints the id of the next output item: prefix, the response id's random part, and
// the item's number, so an item_reference leads back to its response (see responseOfItem).
func (d *Door) itemID(prefix string) string {
	d.items++
	return prefix + d.base + "_" + strconv.Itoa(d.items)
}

func (*Door) Protocol() string          { return Protocol }
func (*Door) StreamContentType() string { return "text/event-stream" }
func (*Door) Keepalive() []byte         { return []byte(": keepalive\n\n") }

// EncodeCount writes the input_tokens answer.
func (*Door) EncodeCount(n int) []byte {
	b := append([]byte(`{"object":"response.input_tokens","input_tokens":`), strconv.Itoa(n)...)
	return append(b, '}')
}

// EncodeResponse writes a whole canonical answer as a Response object: the reasoning item
// (with its signature tagged in encrypted_content), the message, then each tool call.
func (d *Door) EncodeResponse(r *providers.Response) []byte {
	model := r.Model
	if model == "" {
		model = d.req.Model
	}
	o := d.object("completed", model)
	var msg providers.Message
	var reason string
	if len(r.Choices) > 0 {
		msg, reason = r.Choices[0].Message, r.Choices[0].FinishReason
	}
	if msg.Reasoning != "" || msg.ReasoningSignature != "" {
		out := &output{kind: "reasoning", id: d.itemID("rs_"), sig: msg.ReasoningSignature}
		out.text.WriteString(msg.Reasoning)
		o.Output = append(o.Output, marshal(out.item(true)))
	}
	if text := msg.Text(); text != "" || len(msg.ToolCalls) == 0 {
		out := &output{kind: "message", id: d.itemID("msg_")}
		out.text.WriteString(text)
		o.Output = append(o.Output, marshal(out.item(true)))
	}
	for _, tc := range msg.ToolCalls {
		o.Output = append(o.Output, marshal(d.callOutput(tc.ID, tc.Name, tc.Arguments).item(true)))
	}
	o.finish(reason, time.Now().Unix())
	o.Usage = usageOf(r.Usage)
	d.done(o)
	return marshal(o)
}

// callOutput is a tool call's output item: a custom_tool_call for a custom tool, else a
// function_call.
func (d *Door) callOutput(callID, name, args string) *output {
	suffix := d.itemID("")
	out := &output{kind: "function_call", id: "fc_" + suffix, callID: callID, name: name}
	if d.req.isCustom(name) {
		out.kind, out.id = "custom_tool_call", "ct_"+suffix
	}
	if out.callID == "" {
		out.callID = "call_" + suffix
	}
	out.text.WriteString(args)
	return out
}

func (d *Door) owned(id string) {
	d.ownedID = id
	if d.Owned != nil {
		f := d.Owned
		d.Owned = nil
		f(id)
	}
}

func (d *Door) done(o *Object) {
	if d.Done != nil {
		f := d.Done
		d.Done = nil
		f(o)
	}
}

// NewStream starts the streamed answer; the response id is the door's own.
func (d *Door) NewStream(_, model string) providers.StreamWriter {
	if model == "" {
		model = d.req.Model
	}
	return &streamWriter{d: d, model: model}
}
