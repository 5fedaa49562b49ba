package openai

import (
	"strconv"
	"time"

	"github.com/aigateway/ai-gateway/providers"
)

// Door is the Chat Completions front door's protocol on the way out (providers.Door).
type Door struct {
	// IncludeUsage is the caller's stream_options.include_usage: a translated stream ends with
	// the usage chunk only when it was asked for.
	IncludeUsage bool
}

var _ providers.Door = Door{}

func (Door) Protocol() string                            { return providers.ProtocolOpenAI }
func (Door) EncodeResponse(r *providers.Response) []byte { return EncodeResponse(r) }
func (Door) StreamContentType() string                   { return "text/event-stream" }
func (Door) Keepalive() []byte                           { return []byte(": keepalive\n\n") }
func (d Door) NewStream(id, model string) providers.StreamWriter {
	return &streamWriter{enc: NewStreamEncoder(id, model, time.Now().Unix(), d.IncludeUsage)}
}

// EncodeCount writes the Responses API's input_tokens answer.
func (Door) EncodeCount(n int) []byte {
	b := append([]byte(`{"object":"response.input_tokens","input_tokens":`), strconv.Itoa(n)...)
	return append(b, '}')
}

// streamWriter writes a translated stream with StreamEncoder, or relays a forwarded one.
type streamWriter struct {
	enc       *StreamEncoder
	forwarded bool
}

func (w *streamWriter) Encode(dst []byte, ev providers.StreamEvent) []byte {
	return w.enc.Encode(dst, ev)
}

func (w *streamWriter) Frame(dst []byte, f providers.Frame) []byte {
	w.forwarded = true
	dst = append(dst, "data: "...)
	dst = append(dst, f.Data...)
	return append(dst, '\n', '\n')
}

// Finish ends a translated stream with its closing chunks and [DONE]; a forwarded one carried
// its own closing chunks, and gets [DONE] only.
func (w *streamWriter) Finish(dst []byte) []byte {
	if w.forwarded {
		return append(dst, "data: [DONE]\n\n"...)
	}
	return w.enc.Done(dst)
}

func (w *streamWriter) Error(dst []byte, e *providers.Error) []byte { return EncodeStreamError(dst, e) }
