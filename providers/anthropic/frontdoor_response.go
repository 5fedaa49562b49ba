package anthropic

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/aigateway/ai-gateway/providers"
)

type outMessage struct {
	ID           string   `json:"id"`
	Type         string   `json:"type"`
	Role         string   `json:"role"`
	Model        string   `json:"model"`
	Content      []any    `json:"content"`
	StopReason   string   `json:"stop_reason"`
	StopSequence *string  `json:"stop_sequence"`
	Usage        outUsage `json:"usage"`
}

type outUsage struct {
	InputTokens              int `json:"input_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
	OutputTokens             int `json:"output_tokens"`
}

type outText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type outThinking struct {
	Type      string `json:"type"`
	Thinking  string `json:"thinking"`
	Signature string `json:"signature"`
}

type outToolUse struct {
	Type  string          `json:"type"`
	ID    string          `json:"id"`
	Name  string          `json:"name"`
	Input json.RawMessage `json:"input"`
}

// EncodeResponse renders a canonical answer as a Messages API Message object: content is
// thinking (with its signature) first, then the text, then one tool_use block per call with the
// arguments as the input object ({} when they are not a JSON object); the finish reason maps back
// to a stop_reason (stop → end_turn, or tool_use when there are tool calls; length → max_tokens;
// tool_calls → tool_use; content_filter → refusal) and usage splits the input tokens into
// uncached, cache-write and cache-read counts. The id is resp.ID with a "msg_" prefix (a random
// one when empty). Only the first choice is used: the Messages API has one.
func EncodeResponse(resp *providers.Response) []byte {
	out := outMessage{Type: "message", Role: "assistant", Model: resp.Model, Content: []any{}}
	out.ID = messageID(resp.ID)
	var msg providers.Message
	finish := ""
	if len(resp.Choices) > 0 {
		msg, finish = resp.Choices[0].Message, resp.Choices[0].FinishReason
	}
	if msg.Reasoning != "" || msg.ReasoningSignature != "" {
		out.Content = append(out.Content, outThinking{Type: "thinking", Thinking: msg.Reasoning, Signature: msg.ReasoningSignature})
	}
	if text := msg.Text(); text != "" {
		out.Content = append(out.Content, outText{Type: "text", Text: text})
	}
	for i, tc := range msg.ToolCalls {
		id := toolID(tc.ID)
		if id == "" {
			id = toolUseID(out.ID, i)
		}
		out.Content = append(out.Content, outToolUse{Type: "tool_use", ID: id, Name: tc.Name, Input: toolInput(tc.Arguments)})
	}
	out.StopReason = stopReason(finish, len(msg.ToolCalls) > 0)
	in, cw, cr, o := wireUsageCounts(resp.Usage)
	out.Usage = outUsage{InputTokens: in, CacheCreationInputTokens: cw, CacheReadInputTokens: cr, OutputTokens: o}
	return marshalNoEscape(out)
}

// marshalNoEscape is json.Marshal without HTML escaping (these bytes go to API clients).
func marshalNoEscape(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Every value given here marshals; this only guards against a future mistake.
		return EncodeError(&providers.Error{Kind: providers.KindInternal, Message: "encoding the answer failed"})
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})
}

// messageID is id with the "msg_" prefix Anthropic clients expect; a random id when empty.
func messageID(id string) string {
	switch {
	case id == "":
		return "msg_" + randomID()
	case strings.HasPrefix(id, "msg_"):
		return id
	}
	return "msg_" + id
}

// toolUseID is the id given to a tool call that came without one.
func toolUseID(msgID string, i int) string {
	return "toolu_" + toolID(strings.TrimPrefix(msgID, "msg_")) + "_" + string(appendInt(nil, i))
}

// randomID is 24 random base62 characters.
func randomID() string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var b [24]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}

// errorType decides the Anthropic error type for e, the one place both the HTTP error body and
// the in-band `event: error` take it from: an in-band error has no status of its own, so the
// type is all a client can tell it by (the SDKs read error.type; over HTTP they also pick their
// exception by status). An Anthropic upstream's own type passes through, as does one the
// gateway set that is one of Anthropic's; another protocol's type ("requests",
// "RESOURCE_EXHAUSTED", or OpenAI's own "invalid_request_error" on a 429) gives way to the type
// of the status: 400 invalid_request_error, 401 authentication_error, 402 billing_error, 403
// permission_error, 404 not_found_error, 408/504 timeout_error, 413 request_too_large, 429
// rate_limit_error, 503/529 overloaded_error, other 4xx invalid_request_error, other 5xx
// api_error.
func errorType(e *providers.Error) string {
	if _, ok := typeStatus(e.Type); ok && (e.Provider == "" || e.Provider == "anthropic") {
		return e.Type
	}
	switch status := e.Status(); status {
	case http.StatusUnauthorized:
		return "authentication_error"
	case http.StatusPaymentRequired:
		return "billing_error"
	case http.StatusForbidden:
		return "permission_error"
	case http.StatusNotFound:
		return "not_found_error"
	case http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case http.StatusTooManyRequests:
		return "rate_limit_error"
	case http.StatusGatewayTimeout, http.StatusRequestTimeout:
		return "timeout_error"
	case 529, http.StatusServiceUnavailable:
		return "overloaded_error"
	default:
		if status < 500 {
			return "invalid_request_error"
		}
		return "api_error"
	}
}

// EncodeError renders e as an Anthropic error body {"type":"error","error":{"type","message"}},
// to send with e.Status(); errorType says how the type is chosen.
func EncodeError(e *providers.Error) []byte {
	return appendError(make([]byte, 0, 80+len(e.Message)), e)
}

// EncodeStreamError appends e as an in-band stream error, `event: error` with the same object
// EncodeError renders, for an error after the stream has started; the caller closes the stream
// after it.
func EncodeStreamError(dst []byte, e *providers.Error) []byte {
	dst = append(dst, "event: error\ndata: "...)
	dst = appendError(dst, e)
	return append(dst, "\n\n"...)
}

func appendError(dst []byte, e *providers.Error) []byte {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status())
		if msg == "" {
			msg = "error"
		}
	}
	dst = append(dst, `{"type":"error","error":{"type":`...)
	dst = appendString(dst, errorType(e))
	dst = append(dst, `,"message":`...)
	dst = appendString(dst, msg)
	return append(dst, "}}"...)
}
