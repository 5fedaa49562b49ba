package openai

import (
	"encoding/json"

	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/jsonscan"
)

// parseUsage reads an OpenAI usage object without decoding it into a map. Reasoning tokens are
// taken from completion_tokens_details (or a top-level reasoning_tokens, Perplexity). Some
// upstreams (xAI) report completion_tokens without the reasoning tokens; when total_tokens shows
// that, the reasoning tokens are added so OutputTokens always includes them.
func parseUsage(raw []byte) (providers.Usage, bool) {
	if len(raw) == 0 || raw[0] != '{' {
		return providers.Usage{}, false
	}
	var u providers.Usage
	total, reasoningTop := 0, 0
	_ = jsonscan.EachMember(raw, func(k, v []byte) bool {
		switch string(k) {
		case "prompt_tokens":
			u.InputTokens, _ = jsonscan.IntValue(v)
		case "completion_tokens":
			u.OutputTokens, _ = jsonscan.IntValue(v)
		case "total_tokens":
			total, _ = jsonscan.IntValue(v)
		case "reasoning_tokens":
			reasoningTop, _ = jsonscan.IntValue(v)
		case "prompt_tokens_details":
			if len(v) > 0 && v[0] == '{' {
				u.CachedTokens, _ = jsonscan.IntValue(jsonscan.Field(v, "cached_tokens"))
			}
		case "completion_tokens_details":
			if len(v) > 0 && v[0] == '{' {
				u.ReasoningTokens, _ = jsonscan.IntValue(jsonscan.Field(v, "reasoning_tokens"))
			}
		}
		return true
	})
	if u.ReasoningTokens == 0 {
		u.ReasoningTokens = reasoningTop
	}
	if r := u.ReasoningTokens; r > 0 && total > 0 && total == u.InputTokens+u.OutputTokens+r {
		u.OutputTokens += r
	}
	return u, true
}

// normalizeFinish maps the finish reasons seen from compatible servers onto the canonical ones.
func normalizeFinish(s string) string {
	switch s {
	case "", providers.FinishStop, providers.FinishLength, providers.FinishToolCalls, providers.FinishContentFilter:
		return s
	case "function_call", "tool_use":
		return providers.FinishToolCalls
	case "model_length", "max_tokens":
		return providers.FinishLength
	}
	return providers.FinishStop
}

// DecodeResponse reads an OpenAI chat.completion body into the canonical response. Assistant
// text is taken from string or array content (a refusal stands in when there is none), reasoning
// from reasoning_content or reasoning, and a "stop" finish next to tool calls becomes tool_calls.
//
// A body that is not valid JSON returns a *providers.Error of KindUpstream; a body holding an
// error envelope instead of choices returns that error.
func DecodeResponse(body []byte) (*providers.Response, error) {
	var w wireResponse
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, &providers.Error{Kind: providers.KindUpstream,
			Message: "upstream sent a malformed chat completion: " + jsonMessage(err)}
	}
	if !jsonscan.IsNull(w.Error) && len(w.Choices) == 0 {
		info, _ := parseErrorBody(body)
		if info.message == "" {
			info.message = "upstream answered with an error"
		}
		return nil, &providers.Error{Kind: providers.KindUpstream, Message: info.message, Type: info.typ,
			Code: info.code, Param: info.param}
	}
	resp := &providers.Response{ID: w.ID, Model: w.Model, Created: w.Created}
	if u, ok := parseUsage(w.Usage); ok {
		resp.Usage = u
	}
	for _, c := range w.Choices {
		m := c.Message
		msg := providers.Message{Role: providers.RoleAssistant, Content: responseText(m.Content),
			Reasoning: m.ReasoningContent}
		if msg.Reasoning == "" {
			msg.Reasoning = m.Reasoning
		}
		if len(msg.Content) == 0 && m.Refusal != "" {
			msg.Content = []providers.Part{providers.TextPart(m.Refusal)}
		}
		for _, tc := range m.ToolCalls {
			msg.ToolCalls = append(msg.ToolCalls, providers.ToolCall{ID: tc.ID, Name: tc.Function.Name,
				Arguments: string(tc.Function.Arguments)})
		}
		finish := ""
		if c.FinishReason != nil {
			finish = normalizeFinish(*c.FinishReason)
		}
		if len(msg.ToolCalls) > 0 && (finish == providers.FinishStop || finish == "") {
			finish = providers.FinishToolCalls
		}
		resp.Choices = append(resp.Choices, providers.Choice{Index: c.Index, Message: msg, FinishReason: finish})
	}
	return resp, nil
}

// responseText reads assistant content leniently: a string, or the text of an array of parts.
func responseText(c json.RawMessage) []providers.Part {
	if jsonscan.IsNull(c) {
		return nil
	}
	if c[0] == '"' {
		if s, _ := jsonscan.StringValue(c); s != "" {
			return []providers.Part{providers.TextPart(s)}
		}
		return nil
	}
	var parts []wirePartIn
	if json.Unmarshal(c, &parts) != nil {
		return nil
	}
	var out []providers.Part
	for _, p := range parts {
		if p.Type == "text" || p.Type == "output_text" {
			out = append(out, providers.TextPart(p.Text))
		}
	}
	return out
}
