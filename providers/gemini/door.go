package gemini

import "github.com/aigateway/ai-gateway/providers"

// Door is the native Gemini front door's protocol on the way out (providers.Door): SSE when
// the caller asked for alt=sse, else the JSON-array stream.
type Door struct{ SSE bool }

var _ providers.Door = Door{}

func (Door) Protocol() string                            { return providers.ProtocolGemini }
func (Door) EncodeResponse(r *providers.Response) []byte { return EncodeResponse(r) }
func (Door) EncodeCount(n int) []byte                    { return EncodeCountTokensResponse(n) }
func (d Door) NewStream(_, model string) providers.StreamWriter {
	return &streamWriter{enc: NewStreamEncoder(model, d.SSE)}
}

func (d Door) StreamContentType() string {
	if d.SSE {
		return "text/event-stream"
	}
	return "application/json"
}

func (d Door) Keepalive() []byte {
	if d.SSE {
		return []byte(": keepalive\r\n\r\n")
	}
	// Chunks are written whole, so this always falls between JSON tokens (before "[", around
	// ","), where whitespace is valid; the array's own separator is ",\r\n".
	return []byte("\r\n")
}

// streamWriter writes a translated stream with StreamEncoder, or relays a forwarded one in the
// same framing (the upstream is always asked for SSE).
type streamWriter struct {
	enc       *StreamEncoder
	forwarded bool
}

func (w *streamWriter) Encode(dst []byte, ev providers.StreamEvent) []byte {
	return w.enc.Encode(dst, ev)
}

func (w *streamWriter) Frame(dst []byte, f providers.Frame) []byte {
	w.forwarded = true
	if w.enc.closed {
		return dst
	}
	dst = w.enc.open(dst)
	dst = append(dst, f.Data...)
	return w.enc.close(dst)
}

// Finish ends a translated stream with its last chunk; a forwarded one sent its own, and only
// the JSON array is closed.
func (w *streamWriter) Finish(dst []byte) []byte {
	if !w.forwarded {
		return w.enc.Finish(dst)
	}
	if w.enc.closed {
		return dst
	}
	w.enc.closed = true
	if !w.enc.sse {
		if w.enc.chunks == 0 {
			dst = append(dst, '[')
		}
		dst = append(dst, ']')
	}
	return dst
}

func (w *streamWriter) Error(dst []byte, e *providers.Error) []byte { return w.enc.EncodeError(dst, e) }
