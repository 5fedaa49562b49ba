package anthropic

import (
	"crypto/rand"
	"encoding/json"
	"strings"

	"github.com/aigateway/ai-gateway/providers"
)

type outMessage struct {
	ID           string          `json:"id"`
	Type         string          `json:"type"`
	Role         string          `json:"role"`
	Model        string          `json:"model"`
	Content      []any           `json:"content"`
	StopReason   string          `json:"stop_reason"`
	StopSequence *string         `json:"stop_sequence"`
	Usage        json.RawMessage `json:"usage"`
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
// uncached, cache-write (five-minute and one-hour) and cache-read counts (appendUsage). The id is resp.ID with a "msg_" prefix (a random
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
	out.Usage = appendUsage(nil, resp.Usage)
	return marshalNoEscape(out)
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
