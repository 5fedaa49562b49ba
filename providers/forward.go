package providers

import (
	"context"
	"encoding/json"
	"net/http"
)

// Wire protocols: what a front door speaks, and what a backend speaks natively.
const (
	ProtocolOpenAI    = "openai"
	ProtocolAnthropic = "anthropic"
	ProtocolGemini    = "gemini"
)

// Operations a Forwarder serves.
const (
	// OpGenerate is a generation: Chat Completions, Messages, generateContent.
	OpGenerate = "generate"
	// OpCountTokens counts a request's input tokens without generating (Messages
	// count_tokens, Gemini countTokens).
	OpCountTokens = "count_tokens"
)

// Policy is what the gateway changes in a body it forwards: everything else is sent as the
// caller wrote it.
type Policy struct {
	// Model replaces the body's model (for Gemini it names the upstream path instead).
	Model string
	// SystemPrompt is injected before the caller's own system messages; empty = none.
	SystemPrompt string
	// MaxTokens clamps (or sets) the output cap in the protocol's own field; 0 = leave it.
	MaxTokens int
}

// ForwardRequest is a caller's body in the backend's own protocol.
type ForwardRequest struct {
	Op     string
	Body   []byte
	Policy Policy
	Stream bool
	// IncludeUsage is an OpenAI caller's stream_options.include_usage: the upstream is always
	// asked for usage, and the usage-only chunk is dropped again when the caller did not ask.
	IncludeUsage bool
	// Header holds the caller's headers the protocol passes on (anthropic-beta,
	// anthropic-version); nil = none.
	Header http.Header
	// Path names the resource of OpRead and OpDelete (see NativeForwarder).
	Path string
}

// Forwarded is a backend's successful answer on the same-protocol path: a whole answer in Body,
// or a stream read frame by frame with Frames. Backend quirks are already mapped back.
type Forwarded struct {
	// Body is the complete answer when the request was not streamed.
	Body []byte
	// Buffer holds Body's memory when it came from the answer pool (see ReadAnswer): the last
	// holder releases it once Body has been copied out. Nil: Body is the garbage collector's.
	Buffer *AnswerBuffer
	// Summary is what the complete answer reported (usage, finish reason, model).
	Summary Summary
	// Frames is the streamed answer; nil when not streamed.
	Frames Frames
}

// Frame is one event of a same-protocol stream, as the upstream sent it: its SSE event name
// (Anthropic's; empty elsewhere) and its data.
type Frame struct {
	Event string
	Data  []byte
	// Content is true for a frame that carries answer content: time to first token is
	// measured at the first one.
	Content bool
	// Pieces is how many answers' content the frame carries (several for a chunk with several
	// candidates): about one token each, for an estimate when the upstream reports no usage.
	// 0 counts as 1 when Content is true.
	Pieces int
}

// Frames is a streamed same-protocol answer.
//
// Next returns the next frame, valid until the following call; io.EOF after the last frame of a
// stream that ended normally; a *Error when the upstream failed, sent malformed data or ended
// the stream before the answer was complete (see EndOfStream). Close releases the upstream; it
// is safe to call more than once.
type Frames interface {
	Next() (Frame, error)
	// Summary is what the frames so far reported.
	Summary() Summary
	Close() error
}

// Summary is what an answer said about itself, sniffed from its bytes as they passed.
type Summary struct {
	Usage Usage
	// HasUsage is true once the upstream reported usage.
	HasUsage bool
	// FinishReason is the canonical finish reason (FinishStop, …) of the last choice that ended.
	FinishReason string
	// Model is the model the upstream says answered, when it said.
	Model string
}

// Forwarder is implemented by providers that accept a body in their own wire protocol: the
// front door of the same protocol forwards close to byte-for-byte through it (SPEC §5).
//
// Forward applies the policy to the body, sends it with the client's upstream auth, and returns
// the answer. An upstream error status is a *Error with the upstream's status, type and message;
// every other failure is a *Error too. Nothing reaches the caller before Forward returns.
type Forwarder interface {
	Protocol() string
	Forward(ctx context.Context, req ForwardRequest) (Forwarded, error)
}

// EndOfStream is the one verdict on a stream whose body ended: nil when it ended normally, else
// the error the caller must see — an answer cut off must never pass for a whole one. events is
// how many answer events arrived; complete is whether the protocol's end marker (or a finish
// reason) was among them. A stream without a single event is never an answer.
func EndOfStream(provider string, events int, complete bool) error {
	switch {
	case events == 0:
		return &Error{Kind: KindUpstream, Provider: provider,
			Message: "upstream closed the stream without sending an answer"}
	case !complete:
		return &Error{Kind: KindUpstream, Provider: provider,
			Message: "upstream stream ended before the answer was complete"}
	}
	return nil
}

// MaxAnswerBody bounds a non-streamed upstream answer read into memory.
const MaxAnswerBody = 64 << 20

// CheckJSON is the error for an upstream answer (or stream event) that is not valid JSON, with
// the parser's message; nil when data is valid or empty. Forwarders check every body and frame,
// so a caller never receives a broken answer as if it were whole.
func CheckJSON(provider, what string, data []byte) *Error {
	if len(data) == 0 || json.Valid(data) {
		return nil
	}
	var v json.RawMessage
	msg := "invalid JSON"
	if err := json.Unmarshal(data, &v); err != nil {
		msg = err.Error()
	}
	return &Error{Kind: KindUpstream, HTTPStatus: http.StatusBadGateway, Provider: provider,
		Message: "upstream sent a malformed " + what + ": " + msg}
}
