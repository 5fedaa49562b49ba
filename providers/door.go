package providers

// Door is a front door's protocol on the way out: how an answer, a stream, a token count and an
// error are written for a caller that speaks it. Each protocol package implements it
// (openai.Door, anthropic.Door, gemini.Door); the pipeline writes every answer through it, so a
// translated answer and a forwarded one reach the caller in the same framing.
type Door interface {
	Protocol() string
	// EncodeResponse writes a whole canonical answer.
	EncodeResponse(r *Response) []byte
	// NewStream starts one streamed answer.
	NewStream(id, model string) StreamWriter
	// StreamContentType is the Content-Type of a streamed answer.
	StreamContentType() string
	// Keepalive is written while the upstream is silent (an SSE comment, a ping, whitespace).
	Keepalive() []byte
	// EncodeCount writes a count_tokens answer of n input tokens.
	EncodeCount(n int) []byte
}

// StreamWriter writes one streamed answer in a door's protocol. Every method appends to dst.
type StreamWriter interface {
	// Encode writes a canonical event (a translated answer).
	Encode(dst []byte, ev StreamEvent) []byte
	// Frame writes a same-protocol frame as the upstream sent it (a forwarded answer).
	Frame(dst []byte, f Frame) []byte
	// Finish closes a stream that ended normally.
	Finish(dst []byte) []byte
	// Error closes the stream with the protocol's in-band error event.
	Error(dst []byte, e *Error) []byte
}
