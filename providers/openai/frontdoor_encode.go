package openai

import (
	"hash/fnv"
	"strconv"

	"github.com/aigateway/ai-gateway/providers"
)

// EncodeResponse renders a canonical response as an OpenAI chat.completion body: message content
// null when there is no text, refusal null, reasoning_content when there is reasoning, tool_calls
// when there are calls (ids generated for calls that have none), finish_reason (tool_calls or stop
// when unset), and usage with prompt_tokens_details.cached_tokens and
// completion_tokens_details.reasoning_tokens.
func EncodeResponse(resp *providers.Response) []byte {
	b := make([]byte, 0, 512)
	b = append(b, `{"id":`...)
	b = appendString(b, resp.ID)
	b = append(b, `,"object":"chat.completion","created":`...)
	b = strconv.AppendInt(b, resp.Created, 10)
	b = append(b, `,"model":`...)
	b = appendString(b, resp.Model)
	b = append(b, `,"choices":[`...)
	for i, c := range resp.Choices {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"index":`...)
		b = strconv.AppendInt(b, int64(c.Index), 10)
		b = append(b, `,"message":{"role":"assistant","content":`...)
		b = appendNullableString(b, c.Message.Text())
		b = append(b, `,"refusal":null`...)
		if c.Message.Reasoning != "" {
			b = append(b, `,"reasoning_content":`...)
			b = appendString(b, c.Message.Reasoning)
		}
		if len(c.Message.ToolCalls) > 0 {
			b = append(b, `,"tool_calls":[`...)
			for j, tc := range c.Message.ToolCalls {
				if j > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"id":`...)
				id := tc.ID
				if id == "" {
					id = generatedToolCallID(resp.ID, c.Index, j)
				}
				b = appendString(b, id)
				b = append(b, `,"type":"function","function":{"name":`...)
				b = appendString(b, tc.Name)
				b = append(b, `,"arguments":`...)
				args := tc.Arguments
				if args == "" {
					args = "{}"
				}
				b = appendString(b, args)
				b = append(b, '}', '}')
			}
			b = append(b, ']')
		}
		b = append(b, `},"logprobs":null,"finish_reason":`...)
		finish := c.FinishReason
		if finish == "" {
			finish = providers.FinishStop
			if len(c.Message.ToolCalls) > 0 {
				finish = providers.FinishToolCalls
			}
		}
		b = appendString(b, finish)
		b = append(b, '}')
	}
	b = append(b, `],"usage":`...)
	b = appendUsage(b, resp.Usage)
	return append(b, '}')
}

// appendUsage writes an OpenAI usage object.
func appendUsage(b []byte, u providers.Usage) []byte {
	b = append(b, `{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(u.InputTokens), 10)
	b = append(b, `,"completion_tokens":`...)
	b = strconv.AppendInt(b, int64(u.OutputTokens), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(u.InputTokens+u.OutputTokens), 10)
	b = append(b, `,"prompt_tokens_details":{"cached_tokens":`...)
	b = strconv.AppendInt(b, int64(u.CachedTokens), 10)
	b = append(b, `},"completion_tokens_details":{"reasoning_tokens":`...)
	b = strconv.AppendInt(b, int64(u.ReasoningTokens), 10)
	return append(b, '}', '}')
}

// generatedToolCallID makes a stable id for a call that came without one (Gemini gives none).
func generatedToolCallID(respID string, choice, i int) string {
	h := fnv.New32a()
	h.Write([]byte(respID))
	b := append([]byte("call_"), strconv.FormatUint(uint64(h.Sum32()), 36)...)
	b = append(b, '_')
	b = strconv.AppendInt(b, int64(choice), 10)
	b = append(b, '_')
	b = strconv.AppendInt(b, int64(i), 10)
	return string(b)
}
