package anthropic

import (
	"bytes"
	"encoding/json"

	"github.com/aigateway/ai-gateway/providers"
)

// DecodeResponse translates a Messages answer (a Message object) into the canonical response:
// text blocks become text parts, tool_use blocks tool calls (arguments = the compact JSON of the
// input), thinking blocks the reasoning and its signature; the stop reason and usage are mapped
// as finishReason and usageOf say. A body of type "error" gives that error; a body that is not
// a Message gives a KindUpstream (502) *providers.Error.
func DecodeResponse(body []byte) (*providers.Response, error) {
	var w wireResponse
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, invalidResponse("answer", err)
	}
	if w.Type == "error" && w.Error != nil {
		return nil, streamError(w.Error)
	}
	if w.Type != "message" && w.Type != "" {
		return nil, invalidResponse("answer", errUnexpectedType(w.Type))
	}
	msg := providers.Message{Role: providers.RoleAssistant}
	for _, b := range w.Content {
		switch b.Type {
		case "text":
			msg.Content = append(msg.Content, providers.TextPart(b.Text))
		case "thinking":
			if msg.Reasoning != "" && b.Thinking != "" {
				msg.Reasoning += "\n\n"
			}
			msg.Reasoning += b.Thinking
			if b.Signature != "" {
				msg.ReasoningSignature = b.Signature
			}
		case "tool_use":
			msg.ToolCalls = append(msg.ToolCalls, providers.ToolCall{ID: b.ID, Name: b.Name, Arguments: compactArgs(b.Input)})
		}
		// redacted_thinking, server tool blocks and anything newer have no canonical form.
	}
	return &providers.Response{
		ID:      w.ID,
		Model:   w.Model,
		Choices: []providers.Choice{{Index: 0, Message: msg, FinishReason: finishReason(w.StopReason)}},
		Usage:   usageOf(w.Usage),
	}, nil
}

type errUnexpectedType string

func (e errUnexpectedType) Error() string { return "unexpected type " + string(e) }

// compactArgs is a tool_use input as the canonical arguments string: compact JSON, {} if absent.
func compactArgs(input json.RawMessage) string {
	if len(bytes.TrimSpace(input)) == 0 || string(input) == "null" {
		return "{}"
	}
	var buf bytes.Buffer
	if json.Compact(&buf, input) != nil {
		return "{}"
	}
	return buf.String()
}

// finishReason maps an Anthropic stop_reason to the canonical finish reason.
func finishReason(stop string) string {
	switch stop {
	case "max_tokens", "model_context_window_exceeded":
		return providers.FinishLength
	case "tool_use":
		return providers.FinishToolCalls
	case "refusal":
		return providers.FinishContentFilter
	}
	// end_turn, stop_sequence, pause_turn and anything newer.
	return providers.FinishStop
}

// stopReason maps a canonical finish reason back to an Anthropic stop_reason. A plain stop with
// tool calls is tool_use: Gemini reports STOP when it calls tools. No other protocol says which
// stop sequence matched, so stop_sequence is never produced.
func stopReason(finish string, hasToolCalls bool) string {
	switch finish {
	case providers.FinishLength:
		return "max_tokens"
	case providers.FinishToolCalls:
		return "tool_use"
	case providers.FinishContentFilter:
		return "refusal"
	}
	if hasToolCalls {
		return "tool_use"
	}
	return "end_turn"
}

func val(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}
