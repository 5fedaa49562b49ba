// Package providers is the contract between the gateway and the wire protocols it speaks.
//
// It holds the canonical request, response, stream-event and usage model that every
// cross-protocol translation goes through, the Provider interface each upstream protocol
// implements, and the typed errors that carry an upstream failure to the caller's front door.
// Same-protocol traffic does not go through this model: it is forwarded close to
// byte-for-byte (see Forwarder).
//
// Every protocol package (openai, anthropic, gemini) uses the same file for the same role:
//
//	client.go                  the upstream HTTP client: New, Do, Chat, Stream, Models
//	door.go                    the front door's protocol on the way out (Door, its StreamWriter)
//	frontdoor_decode.go        a caller's body → canonical Request (DecodeRequest)
//	frontdoor_peek.go          what policy reads from a caller's body without decoding it (PeekRequest)
//	frontdoor_encode.go        canonical Response → the caller's wire (EncodeResponse)
//	frontdoor_encode_stream.go canonical stream events → the caller's wire (StreamEncoder)
//	upstream_encode.go         canonical Request → the upstream's body (EncodeRequest)
//	upstream_decode.go         the upstream's answer → canonical Response
//	upstream_decode_stream.go  the upstream's stream → canonical events
//	forward.go                 same-protocol forwarding (Forward) and the sniffers of relayed bytes
//	forward_rewrite.go         policy's edits of a forwarded body (RewriteRequest)
//	errors.go                  error bodies in the protocol's shape, both directions
//	wire.go, json.go           wire structs; JSON writing helpers
//
// Raw JSON is scanned and edited with providers/jsonscan.
package providers

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/propagation"
)

// Roles of a canonical message. "developer" messages are mapped to RoleSystem on input.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool"
)

// Finish reasons of a canonical choice. They are OpenAI's values; every protocol maps to and from them.
const (
	FinishStop          = "stop"
	FinishLength        = "length"
	FinishToolCalls     = "tool_calls"
	FinishContentFilter = "content_filter"
)

// Request is one chat request in canonical form.
type Request struct {
	Model    string
	Messages []Message

	Tools             []Tool
	ToolChoice        *ToolChoice
	ParallelToolCalls *bool

	// MaxTokens is the output-token cap; 0 means the caller set none.
	MaxTokens        int
	Temperature      *float64
	TopP             *float64
	TopK             *int
	PresencePenalty  *float64
	FrequencyPenalty *float64
	Seed             *int64
	// N is the number of choices asked for; 0 means 1.
	N              int
	Stop           []string
	ResponseFormat *ResponseFormat

	// ReasoningEffort is OpenAI's "low"|"medium"|"high" (or empty).
	ReasoningEffort string
	// ThinkingBudget is a token budget for reasoning (Anthropic budget_tokens, Gemini thinkingBudget); 0 = unset.
	ThinkingBudget int

	Stream bool
	// IncludeUsage is true when an OpenAI caller asked for the usage chunk (stream_options.include_usage).
	IncludeUsage bool
	// User identifies the end user (OpenAI user / Anthropic metadata.user_id).
	User string

	// AutoCache asks an encoder whose protocol caches only what the request marks (Anthropic's
	// cache_control) to place the marks itself; the gateway sets it from the client's
	// prompt_cache (auto). Marks the caller sent (Part.CacheControl) are kept either way.
	AutoCache bool

	// Extra holds top-level fields of the source protocol that the canonical model does not map.
	// Translators may forward those that mean the same thing on their wire; others are dropped.
	Extra map[string]json.RawMessage

	// OmittedTools names the tools the caller offered that a backend of another protocol cannot
	// be offered (the Responses API's built-in and namespaced tools), left out of the request;
	// the request log notes them on the attempt.
	OmittedTools []string `json:",omitempty"`
}

// Message is one turn of a conversation.
type Message struct {
	Role    string
	Content []Part
	// Name is the optional participant name.
	Name string

	// ToolCalls are the calls an assistant message made.
	ToolCalls []ToolCall
	// ToolCallID links a RoleTool message to the call it answers.
	ToolCallID string
	// ToolName is the called function's name on a RoleTool message, when known.
	ToolName string
	// IsError marks a tool result that reports a failure (Anthropic is_error).
	IsError bool

	// Reasoning is the assistant's reasoning text, carried across turns where the protocol needs it.
	Reasoning string
	// ReasoningSignature is the opaque signature that must come back with Reasoning (Anthropic thinking).
	ReasoningSignature string
}

// Part kinds.
const (
	PartText  = "text"
	PartImage = "image"
)

// Part is one piece of message content.
type Part struct {
	Type string
	Text string
	// URL is an http(s) URL, a data: URL, or a provider file URI for an image or file.
	URL string
	// MIMEType is known for data URLs and file URIs; it may be empty for http URLs.
	MIMEType string
	// Detail is OpenAI's image detail hint.
	Detail string
	// CacheControl is Anthropic's cache_control object, kept so Anthropic→Anthropic-shaped translations keep it.
	// A caller's mark wins over the automatic ones (Request.AutoCache) and counts toward Anthropic's limit of 4.
	CacheControl json.RawMessage
}

// TextPart builds a text part.
func TextPart(s string) Part { return Part{Type: PartText, Text: s} }

// Text concatenates the text parts of a message.
func (m Message) Text() string {
	if len(m.Content) == 1 && m.Content[0].Type == PartText {
		return m.Content[0].Text
	}
	var n int
	for _, p := range m.Content {
		if p.Type == PartText {
			n += len(p.Text)
		}
	}
	b := make([]byte, 0, n)
	for _, p := range m.Content {
		if p.Type == PartText {
			b = append(b, p.Text...)
		}
	}
	return string(b)
}

// ToolCall is one function call made by the model.
type ToolCall struct {
	ID   string
	Name string
	// Arguments is the JSON text of the arguments object.
	Arguments string
	// Signature is Gemini's thoughtSignature for the part that carried this call.
	Signature string
}

// Tool is one function the model may call.
type Tool struct {
	Name        string
	Description string
	// Parameters is a JSON Schema object.
	Parameters json.RawMessage
	Strict     *bool
}

// Tool choice modes.
const (
	ToolChoiceAuto     = "auto"
	ToolChoiceNone     = "none"
	ToolChoiceRequired = "required"
	ToolChoiceTool     = "tool" // Name says which
)

// ToolChoice says whether and which tools the model must call.
type ToolChoice struct {
	Mode string
	Name string
}

// ResponseFormat asks for JSON output.
type ResponseFormat struct {
	// Type is "text", "json_object" or "json_schema".
	Type        string
	Name        string
	Description string
	Schema      json.RawMessage
	Strict      *bool
}

// Response is a complete (non-streamed) answer.
type Response struct {
	ID      string
	Model   string
	Created int64
	Choices []Choice
	Usage   Usage
}

// Choice is one candidate answer.
type Choice struct {
	Index        int
	Message      Message
	FinishReason string
}

// Usage counts tokens. InputTokens includes cached and cache-creation tokens (as OpenAI's
// prompt_tokens and Gemini's promptTokenCount do; Anthropic's input_tokens does not); OutputTokens
// includes reasoning tokens.
type Usage struct {
	InputTokens int
	// OutputTokens includes ReasoningTokens.
	OutputTokens int
	// CachedTokens are input tokens read from the provider's prompt cache.
	CachedTokens int
	// CacheCreationTokens are input tokens written to the prompt cache (Anthropic);
	// CacheCreation1hTokens are those of them written with the one-hour TTL.
	CacheCreationTokens   int
	CacheCreation1hTokens int
	ReasoningTokens       int
	// Estimated is true when the upstream reported nothing and the gateway counted itself.
	Estimated bool
}

// Add accumulates u2 into u.
func (u *Usage) Add(u2 Usage) {
	u.InputTokens += u2.InputTokens
	u.OutputTokens += u2.OutputTokens
	u.CachedTokens += u2.CachedTokens
	u.CacheCreationTokens += u2.CacheCreationTokens
	u.CacheCreation1hTokens += u2.CacheCreation1hTokens
	u.ReasoningTokens += u2.ReasoningTokens
	u.Estimated = u.Estimated || u2.Estimated
}

// EventKind says what a StreamEvent carries.
type EventKind uint8

const (
	// EventStart opens a stream: ID and Model are set. Always the first event.
	EventStart EventKind = iota
	// EventText carries a fragment of answer text in Text.
	EventText
	// EventReasoning carries a fragment of reasoning text in Text, and/or a Signature.
	EventReasoning
	// EventToolCall starts tool call ToolIndex (0,1,2… in order of appearance): ToolID, ToolName, and
	// optionally a first Args fragment (Gemini sends whole calls) and a Signature.
	EventToolCall
	// EventToolArgs carries the next Args fragment of tool call ToolIndex.
	EventToolArgs
	// EventFinish carries the FinishReason of choice Choice.
	EventFinish
	// EventUsage carries the usage so far in Usage (cumulative; the last one wins).
	EventUsage
)

// StreamEvent is one step of a streamed answer.
type StreamEvent struct {
	Kind   EventKind
	Choice int

	ID    string
	Model string

	Text      string
	Signature string

	ToolIndex int
	ToolID    string
	ToolName  string
	Args      string

	FinishReason string
	Usage        *Usage
}

// Stream is an open streamed answer.
//
// Next returns io.EOF after the last event, or a *Error when the upstream failed mid-stream.
// Close releases the upstream connection; it is safe to call more than once.
type Stream interface {
	Next() (StreamEvent, error)
	Close() error
}

// Model is one model a backend offers.
type Model struct {
	ID          string
	DisplayName string
	OwnedBy     string
	Created     int64
}

// Provider is one upstream backend for one client.
//
// Chat and Stream return a *Error for every failure (upstream status, unreachable, timeout,
// cancelled). Nothing is written anywhere before the first upstream byte arrives, so a caller may
// retry another backend on an error from Stream.
type Provider interface {
	Chat(ctx context.Context, req *Request) (*Response, error)
	Stream(ctx context.Context, req *Request) (Stream, error)
	Models(ctx context.Context) ([]Model, error)
}

// EmbedRequest asks for embeddings of Input.
type EmbedRequest struct {
	Model      string
	Input      []string
	Dimensions int
	// Raw is the caller's OpenAI body; OpenAI-compatible backends forward it after setting the model.
	Raw json.RawMessage
}

// EmbedResponse holds one vector per input, in order.
type EmbedResponse struct {
	Model   string
	Vectors [][]float64
	Usage   Usage
	// Raw is the upstream's OpenAI-shaped body, when the upstream speaks OpenAI; the front door may relay it.
	Raw json.RawMessage
}

// Embedder is implemented by providers that have embeddings.
type Embedder interface {
	Embed(ctx context.Context, req *EmbedRequest) (*EmbedResponse, error)
}

// TokenCounter is implemented by providers that can count input tokens without generating.
type TokenCounter interface {
	CountTokens(ctx context.Context, req *Request) (int, error)
}

// Config is what a provider needs to reach its upstream for one client.
type Config struct {
	// Backend is the provider id (gemini, openai, anthropic, mistral, …).
	Backend string
	// BaseURL overrides the provider's default base URL; required for azure and openai-compatible.
	BaseURL string
	// APIKey is the decrypted upstream key; may be empty for local backends.
	APIKey          string
	AzureAPIVersion string
	// ResponsesAPI is "native" when an openai-compatible, ollama or lmstudio backend serves the
	// Responses API itself (/v1/responses is forwarded to it); otherwise it is translated.
	ResponsesAPI string
	// HTTPClient is shared by all providers (one transport, pooled per host). It must have no total timeout.
	HTTPClient *http.Client
	// HeaderTimeout bounds the wait for the upstream's response headers (504 when exceeded); 0 = none.
	HeaderTimeout time.Duration
	// IdleTimeout bounds the silence between two reads of a streamed body; 0 = none.
	IdleTimeout time.Duration
	// Propagator is set when tracing is on (SPEC §19): Do writes the trace context of each
	// request's context into its headers (W3C traceparent) and notes the upstream's answer on
	// that context's span. Nil: no header, no note.
	Propagator propagation.TextMapPropagator
}

// ReadAllLimited reads at most limit bytes of r; used for upstream error bodies.
func ReadAllLimited(r io.Reader, limit int64) []byte {
	b, _ := ReadBody(r, -1, limit)
	return b
}

// ReadBody reads r to its end, or to limit bytes. size is the length the response announced
// (Content-Length; -1 when unknown): the buffer is allocated once at that size rather than grown
// from 512 bytes by doubling.
func ReadBody(r io.Reader, size, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	if size > 0 && size < limit {
		buf.Grow(int(size) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(io.LimitReader(r, limit))
	return buf.Bytes(), err
}
