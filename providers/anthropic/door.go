package anthropic

import (
	"strconv"

	"github.com/aigateway/ai-gateway/providers"
)

// Door is the Messages front door's protocol on the way out (providers.Door).
type Door struct{}

var _ providers.Door = Door{}

func (Door) Protocol() string                            { return providers.ProtocolAnthropic }
func (Door) EncodeResponse(r *providers.Response) []byte { return EncodeResponse(r) }
func (Door) StreamContentType() string                   { return "text/event-stream" }
func (Door) Keepalive() []byte                           { return []byte("event: ping\ndata: {\"type\":\"ping\"}\n\n") }
func (Door) NewStream(id, model string) providers.StreamWriter {
	return &streamWriter{enc: NewStreamEncoder(id, model)}
}

// EncodeCount writes count_tokens' answer.
func (Door) EncodeCount(n int) []byte {
	b := append([]byte(`{"input_tokens":`), strconv.Itoa(n)...)
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
	if f.Event != "" {
		dst = append(dst, "event: "...)
		dst = append(dst, f.Event...)
		dst = append(dst, '\n')
	}
	dst = append(dst, "data: "...)
	dst = append(dst, f.Data...)
	return append(dst, '\n', '\n')
}

// Finish ends a translated stream with message_delta and message_stop; a forwarded one relayed
// its own.
func (w *streamWriter) Finish(dst []byte) []byte {
	if w.forwarded {
		return dst
	}
	return w.enc.Finish(dst)
}

func (w *streamWriter) Error(dst []byte, e *providers.Error) []byte { return EncodeStreamError(dst, e) }
